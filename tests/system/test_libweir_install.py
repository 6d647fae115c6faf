# SPDX-License-Identifier: Apache-2.0
"""libweir as a third party sees it: `meson install` into a staging
directory, then examples/learning-switch.c compiled out of tree with
nothing but `pkg-config libweir`, linked against the installed shared
library, and run against a weird."""

import os
import shutil
import subprocess
import tempfile

import pytest

import systest
import weirdlib as wl

systest.summary(__file__, "libweir installed: headers, libweir.so, "
                "pkg-config")


def build_dir():
    return os.path.join(systest.ROOT, os.environ.get("WEIR_BUILD", "build"))


def sanitize_flags(build):
    """The sanitizers the build was configured with: a program linking an
    instrumented libweir.so needs their runtimes too."""
    r = subprocess.run(["meson", "introspect", "--buildoptions", build],
                       stdout=subprocess.PIPE, universal_newlines=True)
    if r.returncode:
        return []
    import json
    for opt in json.loads(r.stdout):
        if opt["name"] == "b_sanitize" and opt["value"] not in ("", "none"):
            return ["-fsanitize=" + opt["value"]]
    return []


def test_installed_library_builds_and_runs_the_example():
    build = build_dir()
    if not os.path.exists(os.path.join(build, "build.ninja")):
        pytest.skip(systest.MISSING_PEER + "no meson build at %s" % build)
    if not shutil.which("pkg-config") or not shutil.which("cc"):
        pytest.skip(systest.MISSING_PEER + "pkg-config or cc missing")
    stage = tempfile.mkdtemp(prefix="libweir-install-")
    try:
        subprocess.run(["meson", "install", "-C", build, "--destdir", stage,
                        "--quiet"], check=True, stdout=subprocess.DEVNULL,
                       timeout=300)
        pcs = [os.path.join(d, f) for d, _, fs in os.walk(stage)
               for f in fs if f == "libweir.pc"]
        assert len(pcs) == 1, pcs
        headers = [os.path.join(d, f) for d, _, fs in os.walk(stage)
                   for f in fs if f in ("dpif.h", "control.h")]
        assert len(headers) == 2, headers
        env = dict(os.environ,
                   PKG_CONFIG_PATH=os.path.dirname(pcs[0]),
                   PKG_CONFIG_SYSROOT_DIR=stage)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs",
                                "libweir"], env=env, check=True,
                               stdout=subprocess.PIPE,
                               universal_newlines=True).stdout.split()
        libdir = [f[2:] for f in flags if f.startswith("-L")][0]
        exe = os.path.join(stage, "learning-switch")
        subprocess.run(["cc", "-std=gnu11", "-Wall", "-Werror", "-o", exe,
                        os.path.join(systest.ROOT, "examples",
                                     "learning-switch.c")]
                       + flags + sanitize_flags(build), check=True,
                       timeout=120)

        # Run it: against a weird, on a datapath with two dummy ports; it
        # must start, report its ports, and stop cleanly on SIGINT.
        w = wl.Weird()
        try:
            c = wl.NlConn(w.control)
            env = dict(w.env(), LD_LIBRARY_PATH=libdir,
                       ASAN_OPTIONS="detect_leaks=0")
            weir = os.environ.get("WEIR_BIN") or os.path.join(
                build, "src", "tools", "weir")
            subprocess.run([weir, "dp", "add-dp", "lsw0"], env=env,
                           check=True, timeout=30)
            subprocess.run([weir, "dp", "add-if", "lsw0",
                            "lswa,type=dummy", "lswb,type=dummy"],
                           env=env, check=True, timeout=30)
            proc = subprocess.Popen([exe, "lsw0"], env=env,
                                    stdout=subprocess.PIPE,
                                    universal_newlines=True)
            line = proc.stdout.readline()
            assert "running on lsw0 with 3 ports" in line, line
            proc.send_signal(2)
            out, _ = proc.communicate(timeout=10)
            assert proc.returncode == 0
            assert "stopping" in out
            c.close()
        finally:
            assert w.stop() == 0
    finally:
        shutil.rmtree(stage, ignore_errors=True)
