# SPDX-License-Identifier: Apache-2.0
"""Golden cases from Open vSwitch's tests/odp.at.

What
====

OVS's autotest file tests/odp.at builds its inputs with small shell
recipes: a base file written with AT_DATA, then `sed` scripts that prefix
or rewrite each base line into variants (with VLAN tags, MPLS, conntrack
fields, tunnels, ...), concatenated into odp-in.txt / odp.txt.  This module
reads odp.at straight out of the Debian openvswitch-source tarball (in
memory) and replays those recipes in Python, so that the cases weir tests
against are exactly OVS's, without running autotest or a shell.

Design
======

- `read_odp_at()` finds tests/odp.at in the tarball.
- `section(text, title)` returns the body of one AT_SETUP ... AT_CLEANUP.
- `at_data(body, name)` returns the contents of one AT_DATA file.
- `run_recipe(body, files, output)` interprets the subshell
  "( ... ) > output": `echo`, `cat FILE`, `sed [-n] 'SCRIPT' FILE`
  and pipes into further `sed`s.  `Sed` implements the subset of GNU sed
  the recipes use: `s` commands (with the g, p and numeric flags), BRE
  regular expressions translated to Python's, `-n`, and -- importantly --
  sed's failure modes: a script that GNU sed rejects (several recipes put
  an unescaped '/' into an `s` replacement) produces no output at all, just
  as it does when autotest runs it.  Likewise BRE's literal `?` is kept
  literal, so a recipe that (by accident) never matches leaves its lines
  unchanged, exactly as in OVS's own run.
- m4 quoting is undone the way autotest does for the shell text:
  "[[" becomes "[" and "]]" becomes "]".

`key_cases()` returns (section_comment, line) pairs for the two key
sections; `action_cases()` returns the lines of the actions section.
"""

import os
import re
import shlex
import tarfile

TARBALL = os.environ.get("OVS_SOURCE_TARBALL",
                         "/usr/src/openvswitch/openvswitch.tar.gz")

KEY_SECTIONS = (
    # (AT_SETUP title, output file of its recipe)
    ("OVS datapath key parsing and formatting - valid forms", "odp-in.txt"),
    ("OVS datapath wildcarded key parsing and formatting - valid forms",
     "odp.txt"),
)

_cache = {}


def read_odp_at(tarball=TARBALL):
    """Returns the text of tests/odp.at from the OVS source tarball."""
    if tarball not in _cache:
        with tarfile.open(tarball) as tar:
            member = next(m for m in tar.getmembers()
                          if m.name.endswith("tests/odp.at"))
            _cache[tarball] = tar.extractfile(member).read().decode()
    return _cache[tarball]


def section(text, title):
    """Returns the body of the AT_SETUP([title]) ... AT_CLEANUP block."""
    start = text.index("AT_SETUP([%s])" % title)
    end = text.index("AT_CLEANUP", start)
    return text[start:end]


def at_data(body, name):
    """Returns the contents of AT_DATA([name], [dnl ...]) in 'body'."""
    m = re.search(r"AT_DATA\(\[%s\], \[dnl\n(.*?)\n\]\)" % re.escape(name),
                  body, re.S)
    if not m:
        raise KeyError(name)
    return m.group(1) + "\n"


def m4_unquote(text):
    """Undoes one level of m4 quoting in unquoted autotest text."""
    return text.replace("[[", "[").replace("]]", "]")


class SedError(Exception):
    pass


def bre_to_python(bre):
    """Translates a POSIX basic regular expression (GNU flavour)."""
    out = []
    i = 0
    while i < len(bre):
        c = bre[i]
        if c == "\\" and i + 1 < len(bre):
            n = bre[i + 1]
            i += 2
            if n in "(){}?+|":
                out.append(n)           # \( \) \{ \} \? \+ \| are operators
            elif n.isdigit():
                out.append("\\" + n)
            elif n == "n":
                out.append("\n")
            else:
                out.append(re.escape(n))
            continue
        if c == "[":
            # Bracket expression: copy up to the closing ']' (a ']' right
            # after '[' or '[^' is literal).  Backslash is literal inside.
            j = i + 1
            if j < len(bre) and bre[j] == "^":
                j += 1
            if j < len(bre) and bre[j] == "]":
                j += 1
            while j < len(bre) and bre[j] != "]":
                j += 1
            if j >= len(bre):
                raise SedError("unterminated [")
            content = bre[i + 1:j].replace("\\", "\\\\")
            out.append("[" + content + "]")
            i = j + 1
            continue
        if c in "(){}?+|":
            out.append("\\" + c)        # Literal in BRE.
        elif c == "*" and (not out or out[-1] in ("(", "^")):
            out.append("\\*")           # Leading '*' is literal.
        else:
            out.append(c)               # . * ^ $ and ordinary characters
        i += 1
    return "".join(out)


def _split_delim(text, i, delim):
    """Returns (part, index after delimiter) scanning from 'i'."""
    part = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            if text[i + 1] == delim:
                part.append(delim)
            else:
                part.append(text[i:i + 2])
            i += 2
            continue
        if c == delim:
            return "".join(part), i + 1
        if c == "\n":
            break
        part.append(c)
        i += 1
    raise SedError("unterminated `s' command")


class Sed:
    """The subset of GNU sed used by odp.at's recipes."""

    def __init__(self, script, quiet=False):
        self.quiet = quiet
        self.commands = []
        i = 0
        while i < len(script):
            c = script[i]
            if c in " \t\n;":
                i += 1
                continue
            if c != "s":
                raise SedError("unsupported command %r" % c)
            delim = script[i + 1]
            regex, i = _split_delim(script, i + 2, delim)
            repl, i = _split_delim(script, i, delim)
            flags = ""
            while i < len(script) and script[i] not in "\n;":
                flags += script[i]
                i += 1
            if not re.fullmatch(r"[gp0-9]*", flags.strip()):
                # GNU sed: "unknown option to `s'" -- nothing is output.
                raise SedError("unknown option to `s'")
            count = 0 if "g" in flags else 1
            digits = re.sub(r"\D", "", flags)
            nth = int(digits) if digits else 1
            self.commands.append((re.compile(bre_to_python(regex)), repl,
                                  count, nth, "p" in flags))

    @staticmethod
    def _expand(repl, m):
        out = []
        i = 0
        while i < len(repl):
            c = repl[i]
            if c == "\\" and i + 1 < len(repl):
                n = repl[i + 1]
                out.append(m.group(int(n)) if n.isdigit()
                           else "\n" if n == "n" else n)
                i += 2
            elif c == "&":
                out.append(m.group(0))
                i += 1
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _subst(self, regex, repl, count, nth, line):
        seen = 0
        done = False

        def one(m):
            nonlocal seen, done
            seen += 1
            if seen < nth or (done and count == 1):
                return m.group(0)
            done = True
            return self._expand(repl, m)

        new = regex.sub(one, line)
        return new, done

    def run(self, lines):
        out = []
        for line in lines:
            for regex, repl, count, nth, pflag in self.commands:
                line, done = self._subst(regex, repl, count, nth, line)
                if done and pflag:
                    out.append(line)
            if not self.quiet:
                out.append(line)
        return out


def _commands(shell):
    """Splits the recipe's shell text into pipelines of argv lists."""
    lex = shlex.shlex(shell, posix=True, punctuation_chars="|()>\n")
    lex.whitespace = " \t"
    lex.commenters = ""
    pipelines, pipeline, argv = [], [], []
    tokens = []
    for tok in lex:
        # shlex groups adjacent punctuation ("\n\n", ")>"): split it.
        if tok and all(c in "|()>\n" for c in tok):
            tokens.extend(tok)
        else:
            tokens.append(tok)
    for tok in tokens:
        if tok in ("\n", "(", ")", ">"):
            if argv:
                pipeline.append(argv)
            if pipeline:
                pipelines.append(pipeline)
            pipeline, argv = [], []
            if tok == ">":
                break                   # "( ... ) > file": the end.
        elif tok == "|":
            pipeline.append(argv)
            argv = []
        else:
            argv.append(tok)
    return pipelines


def _run_command(argv, files, stdin):
    if argv[0] == "echo":
        return [" ".join(argv[1:])]
    if argv[0] == "cat":
        return files[argv[1]].splitlines()
    if argv[0] == "sed":
        args = argv[1:]
        quiet = False
        if args and args[0] == "-n":
            quiet = True
            args = args[1:]
        script = args[0]
        lines = files[args[1]].splitlines() if len(args) > 1 else stdin
        try:
            return Sed(script, quiet).run(lines)
        except SedError:
            return []                   # sed prints an error, no output.
    raise ValueError("unsupported command %r" % argv[0])


def run_recipe(body, files, output):
    """Replays the "( ... ) > output" recipe of 'body'; returns its lines.
    'files' maps AT_DATA names to contents."""
    end = body.index(") > %s" % output)
    start = body.rindex("\n(", 0, end) + 1
    shell = m4_unquote(body[start:end + len(") > ") + len(output)])
    lines = []
    for pipeline in _commands(shell):
        data = None
        for argv in pipeline:
            data = _run_command(argv, files, data)
        lines.extend(data)
    return lines


def _cases(title, output):
    body = section(read_odp_at(), title)
    files = {"odp-base.txt": at_data(body, "odp-base.txt")}
    comment = ""
    cases = []
    for line in run_recipe(body, files, output):
        if line.startswith("#"):
            comment = line
        elif line.strip():
            cases.append((comment, line))
    return cases


def key_cases():
    """Returns [(section_comment, key_line)] for the key sections of
    odp.at, in file order.  The comment is the "# Valid forms ..." line
    that precedes the case, prefixed with the AT_SETUP title's short form
    ("keys" or "wildcarded keys")."""
    cases = []
    for title, output in KEY_SECTIONS:
        short = "wildcarded keys" if "wildcarded" in title else "keys"
        for comment, line in _cases(title, output):
            cases.append(("%s: %s" % (short, comment), line))
    return cases


ACTION_SECTION = "OVS datapath actions parsing and formatting - valid forms"


def action_cases():
    """Returns the action lines of odp.at's "actions parsing and formatting
    - valid forms" section (its AT_DATA actions.txt), in file order, with
    m4 quoting undone ("[[fe80::1]]" is the text "[fe80::1]")."""
    body = section(read_odp_at(), ACTION_SECTION)
    m = re.search(r"AT_DATA\(\[actions\.txt\], \[dnl\n(.*?)\n\]\)", body,
                  re.S)
    return [m4_unquote(line) for line in m.group(1).splitlines()
            if line.strip()]


if __name__ == "__main__":
    for comment, line in key_cases():
        print("%s\t%s" % (comment, line))
