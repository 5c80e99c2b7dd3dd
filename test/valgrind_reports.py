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

Some of PostgreSQL's own reports can have the extension's frames below
them, when they are raised in a call the extension makes (the ingestion
worker's connection writing the relcache init file, its commit flushing WAL,
a regular expression of an SQL statement it runs).  Two kinds are known
noise, listed apart, and do not fail the run:
- the padding bytes of src/tools/valgrind.supp in PostgreSQL's source: an
  uninitialised write(buf) or pwrite64(buf) whose stack reaches one of the
  functions of PADDING before any frame of the extension, unless valgrind
  tracked origins and the bytes were left uninitialised by the extension's
  own allocation (origin_owner).  Debian's server is not built with
  USE_VALGRIND and its static functions have no names, so the entries are
  recognised by the exported functions above the static one valgrind.supp
  names (XLogWrite: XLogFlush, XLogBackgroundFlush, and XLogInsertRecord
  when the WAL buffers are full).  Bytes the extension leaves uninitialised
  in a row it stores would reach the WAL too: only a stack or malloc origin
  tells them apart (VALGRIND_OPTS=--track-origins=yes, test/valgrind.sh),
  and memory from palloc not even then;
- glibc's __memmove_chk, which is __memcpy_chk under another name, so that
  valgrind reports an "overlap in memcpy_chk" for a memmove: PostgreSQL's
  regular-expression cache moves its entries up by one with memmove
  (RE_compile_and_cache); an overlap counts as this noise only when
  RE_compile_and_cache called it.

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
OVERLAP = re.compile(r'^==\d+== Source and destination overlap in memcpy_chk\(')
# valgrind.supp entry: the exported functions of Debian's server above it.
PADDING = {
    'padding_XLogRecData_write': ('XLogFlush', 'XLogBackgroundFlush', 'XLogInsertRecord'),
    'padding_relcache': ('RelationCacheInitializePhase3',),
    'padding_pgstat_write': ('pgstat_write_statsfiles', 'pgstat_before_server_shutdown'),
}
ORIGIN = re.compile(r'^==\d+==\s+Uninitialised value was created')
MALLOC = {'malloc', 'calloc', 'realloc'}
PALLOC = {'palloc', 'palloc0', 'palloc_extended', 'repalloc', 'repalloc_huge', 'MemoryContextAlloc',
          'MemoryContextAllocZero', 'MemoryContextAllocExtended', 'MemoryContextAllocHuge'}


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


def frame_name(line):
    """The function of a stack frame line, or None for another line."""
    m = FRAME.match(line)
    return m.group(1).split(' ')[0] if m else None


def origin_owner(report):
    """The frame whose own allocation left the uninitialised bytes of a
    report: the function of a stack allocation, or the caller of malloc,
    calloc or realloc; None without tracked origins, and for memory from a
    memory context (palloc), whose origin is the block's malloc, made for
    whichever palloc found the block full, not for the bytes reported."""
    frames = None
    for line in report[1:]:
        if frames is None:
            if ORIGIN.match(line):
                frames = []
        elif frame_name(line) is not None:
            frames.append(line)
        else:
            break
    if not frames:
        return None
    names = [frame_name(f) for f in frames]
    if any(n in PALLOC for n in names):
        return None
    if names[0] in MALLOC:
        return frames[1] if len(frames) > 1 else None
    return frames[0]


def noise_entry(report):
    """The kind of PostgreSQL's known noise a report is, or None."""
    if OVERLAP.match(report[0]):
        caller = frame_name(report[2]) if len(report) > 2 else None
        return 'memmove_as_memcpy_chk' if caller == 'RE_compile_and_cache' else None
    if not PADDING_WRITE.match(report[0]):
        return None
    owner = origin_owner(report)
    if owner and EXTENSION.search(owner):
        return None          # the bytes were left uninitialised by the extension
    for line in report[1:]:
        name = frame_name(line)
        if name is None:
            break            # the end of the stack of the write
        if EXTENSION.search(line):
            return None
        for entry, funcs in PADDING.items():
            if name in funcs:
                return entry
    return None


def main(folder):
    """Sort the reports of the log files in folder; 1 when any is against the extension."""
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
          f"PostgreSQL's known noise under the extension's frames: {noise_text}")
    return 1 if ours else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
