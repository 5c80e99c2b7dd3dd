#!/usr/bin/env python3
"""test/valgrind_reports.py — sorts the reports of a valgrind run of the
server (test/valgrind.sh): one log file per process, in the folder given.

A report counts against the extension when any of its stacks (where the
error happened, where the block was allocated or freed, where an
uninitialised value came from) has a frame in the extension's code: a
source file of this checkout, printed as "(src/<part>/<file>.c:<line>)"
(valgrind --fullpath-after=<checkout>/), or daily_seongsu.so for a frame
without a line.  Every other report is PostgreSQL's (or a library's) own and
is only counted.

One kind of PostgreSQL's own reports has the extension's frames below it:
PostgreSQL's known padding noise (its src/tools/valgrind.supp) raised in a
call the extension makes, such as the ingestion worker's connection writing
the relcache init file, or its commit flushing WAL.  Debian's server is not
built with USE_VALGRIND and its static functions have no names, so they are
recognised by the exported function above the write: a report counts as
such noise when it is an uninitialised write(buf) or pwrite64(buf) whose
stack reaches one of NOISE before any frame of the extension, and (when
valgrind tracked origins) the uninitialised bytes were not created in the
extension.  They are listed apart, and do not fail the run.

Prints a summary and the reports against the extension; exits 1 when there
is one.  Usage: valgrind_reports.py FOLDER
"""
import os
import re
import sys

REPORT_START = re.compile(r'^==\d+== \S')
FRAME = re.compile(r'^==\d+==\s+(?:at|by) 0x[0-9A-F]+: (.*)$')
EXTENSION = re.compile(r'\(src/[^():]+\.[ch]:\d+\)|daily_seongsu\.so')
PADDING_WRITE = re.compile(r'^==\d+== Syscall param (?:write|pwrite64)\(buf\) points to uninitialised byte\(s\)')
# valgrind.supp entry: the exported function of Debian's server above it.
NOISE = {
    'padding_XLogRecData_write': ('XLogFlush', 'XLogBackgroundFlush'),
    'padding_relcache': ('RelationCacheInitializePhase3',),
    'padding_pgstat_write': ('pgstat_write_statsfiles', 'pgstat_before_server_shutdown'),
}
ORIGIN = re.compile(r'^==\d+==\s+Uninitialised value was created')


def reports_of(path):
    """The reports of one log file, each a list of lines."""
    out = []
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if REPORT_START.match(line):
                out.append([line])
            elif out and line.strip() and not re.match(r'^==\d+==\s*$', line):
                out[-1].append(line)
    return out


def noise_entry(report):
    """The valgrind.supp entry a report of PostgreSQL's padding noise falls under, or None."""
    if not PADDING_WRITE.match(report[0]):
        return None
    origin = False
    for line in report[1:]:
        if ORIGIN.match(line):
            origin = True
        elif origin and EXTENSION.search(line):
            return None      # the bytes were left uninitialised by the extension
    for line in report[1:]:
        m = FRAME.match(line)
        if not m:
            break            # the end of the stack of the write
        if EXTENSION.search(line):
            return None
        name = m.group(1).split(' ')[0]
        for entry, funcs in NOISE.items():
            if name in funcs:
                return entry
    return None


def main(folder):
    files = sorted(os.listdir(folder))
    nonempty = [f for f in files if os.path.getsize(os.path.join(folder, f)) > 0]
    total, ours, noise = 0, [], {}
    for name in nonempty:
        for report in reports_of(os.path.join(folder, name)):
            total += 1
            if not any(EXTENSION.search(line) for line in report):
                continue
            entry = noise_entry(report)
            if entry:
                noise[entry] = noise.get(entry, 0) + 1
            else:
                ours.append((name, report))
    for name, report in ours:
        print(f'--- {name}')
        print('\n'.join(report))
    noise_text = ', '.join(f'{n} {e}' for e, n in sorted(noise.items())) or 'none'
    print(f'{len(files)} processes, {len(nonempty)} report files, {total} reports; '
          f'{len(ours)} reports in {len({n for n, _ in ours})} files against the extension; '
          f"PostgreSQL's padding noise under the extension's frames: {noise_text}")
    return 1 if ours else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
