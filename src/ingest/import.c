/*
 * import.c — seongsu.import_text and seongsu.import_file: parse a whole
 * published file, then upsert it.  All-or-nothing: a bad line raises an
 * ERROR before any row is written, naming the line, column and value.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "import.h"
#include "../safe_spi.h"
#include "upsert.h"

PG_FUNCTION_INFO_V1(import_text);
PG_FUNCTION_INFO_V1(import_file);
PG_FUNCTION_INFO_V1(import_kinds);

/* Every kind's name, comma-separated (palloc'd), for hints. */
static char *
ImportKindNames(void)
{
	StringInfoData names;
	const ImportKind *k;

	initStringInfo(&names);
	for (k = ImportKinds; k->name; k++)
		appendStringInfo(&names, "%s%s", k == ImportKinds ? "" : ", ", k->name);
	return names.data;
}

/* The import kind named by the first argument, or an ERROR listing the kinds. */
static const ImportKind *
LookupKindOrError(text *kind)
{
	char	   *name = text_to_cstring(kind);
	const ImportKind *k = ImportKindLookup(name);

	if (!k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown import kind \"%s\"", name),
				 errhint("Valid kinds are: %s.", ImportKindNames())));
	return k;
}

/*
 * import_kinds(): every import kind (import_kinds.c), in order: its name,
 * what it imports and into which table, and the layout it expects.
 */
Datum
import_kinds(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const ImportKind *k;

	InitMaterializedSRF(fcinfo, 0);
	for (k = ImportKinds; k->name; k++)
	{
		Datum		v[4];
		bool		n[4] = {false, false, false, false};

		v[0] = Int32GetDatum((int32) (k - ImportKinds) + 1);
		v[1] = CStringGetTextDatum(k->name);
		v[2] = CStringGetTextDatum(k->description);
		v[3] = CStringGetTextDatum(k->hint);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

/* Raise the parse error as an ERROR with line, column and value. */
static void
ReportParseError(const ImportKind *k, const ParseError *err)
{
	int			code = err->bad_format ? ERRCODE_BAD_COPY_FILE_FORMAT
		: ERRCODE_INVALID_TEXT_REPRESENTATION;

	if (err->line > 0 && err->column[0])
		ereport(ERROR,
				(errcode(code),
				 errmsg("%s import failed at line %ld: %s", k->name, err->line, err->message),
				 errdetail("Column \"%s\" has value \"%s\". No row was written.",
						   err->column, err->value),
				 errhint("%s", k->hint)));
	else if (err->line > 0)
		ereport(ERROR,
				(errcode(code),
				 errmsg("%s import failed at line %ld: %s", k->name, err->line, err->message),
				 errdetail("No row was written."),
				 errhint("%s", k->hint)));
	else
		ereport(ERROR,
				(errcode(code),
				 errmsg("%s import failed: %s", k->name, err->message),
				 err->column[0]
				 ? errdetail("Field \"%s\" has value \"%s\". No row was written.",
							 err->column, err->value)
				 : errdetail("No row was written."),
				 errhint("%s", k->hint)));
}

/*
 * The 1-based line of buf at p (a field start: unquoting in place leaves
 * those where they were), or 0 when p is not in buf.
 */
static long
LineAt(const char *buf, size_t len, const char *p)
{
	long		line = 1;
	const char *q = buf;

	if (p == NULL || p < buf || p >= buf + len)
		return 0;
	while ((q = memchr(q, '\n', (size_t) (p - q))) != NULL)
	{
		line++;
		q++;
	}
	return line;
}

/* Parse buf (which the parser may modify) as kind k and upsert the rows. */
static int64
ImportBuffer(const ImportKind *k, char *buf, size_t len)
{
	int			spi;
	RowSet		rs;
	ParseError	err, bad;
	uint64		written;
	bool		ok;

	memset(&err, 0, sizeof(err));
	memset(&bad, 0, sizeof(bad));
	RowSetInit(&rs, k->rowkind, k->source);
	ok = k->parse(buf, len, &rs, &err);
	/* a station or line name that cannot be stored, unless the parse failed earlier */
	if (!RowSetNamesOk(&rs, &bad))
	{
		bad.line = LineAt(buf, len, rs.name_error_at);
		if (ok || err.line == 0 || (bad.line > 0 && bad.line <= err.line))
		{
			err = bad;
			ok = false;
		}
	}
	if (!ok)
		ReportParseError(k, &err);
	spi = SsSpiConnect();
	written = UpsertRowSet(&rs);
	SsSpiFinish(spi);
	RowSetFree(&rs);
	return (int64) written;
}

/* import_text(kind text, body text) RETURNS bigint: rows inserted or changed. */
Datum
import_text(PG_FUNCTION_ARGS)
{
	const ImportKind *k = LookupKindOrError(PG_GETARG_TEXT_PP(0));
	text	   *body = PG_GETARG_TEXT_PP(1);
	size_t		len = VARSIZE_ANY_EXHDR(body);
	char	   *buf = palloc_extended(len + 1, MCXT_ALLOC_HUGE);

	memcpy(buf, VARDATA_ANY(body), len);
	buf[len] = '\0';
	PG_RETURN_INT64(ImportBuffer(k, buf, len));
}

/* Absolute path of a server file; relative paths are taken in the data directory. */
static char *
ResolvePath(text *path)
{
	char	   *p = text_to_cstring(path);

	if (p[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file path must not be empty")));
	if (!is_absolute_path(p))
		p = psprintf("%s/%s", DataDir, p);
	canonicalize_path(p);
	return p;
}

/* Read a whole server file into palloc'd memory (NUL-terminated). */
static char *
ReadServerFile(const char *path, size_t *len)
{
	struct stat st;
	FILE	   *f;
	char	   *buf;
	size_t		got;

	if (stat(path, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path),
				 errhint("The path is read by the database server, not by the client.")));
	if (S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", path)));
	if ((uint64) st.st_size > MaxAllocHugeSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file \"%s\" is too large to import", path)));
	f = AllocateFile(path, PG_BINARY_R);
	if (!f)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	buf = palloc_extended((size_t) st.st_size + 1, MCXT_ALLOC_HUGE);
	got = fread(buf, 1, (size_t) st.st_size, f);
	if (ferror(f))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	FreeFile(f);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* The encoding called name, or an ERROR. */
static int
EncodingOrError(const char *name)
{
	int			enc = pg_char_to_encoding(name);

	if (enc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid encoding name \"%s\"", name),
				 errhint("Use UTF8 for UTF-8 files and UHC for CP949 (Windows Korean) files.")));
	return enc;
}

/* Convert buf (read from path) from encoding enc to the database encoding, validating it. */
static char *
ToDatabaseEncoding(char *buf, size_t *len, int enc, const char *encoding, const char *path)
{
	char	   *out;
	if (enc == GetDatabaseEncoding())
	{
		/* a BOM is skipped by the parsers; the rest must be valid */
		if (!pg_verify_mbstr(enc, buf, (int) *len, true))
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("file \"%s\" is not valid %s", path, encoding),
					 errdetail("No row was written."),
					 errhint("Files downloaded from Korean public data portals are often CP949: pass encoding 'UHC'.")));
		return buf;
	}
	out = (char *) pg_do_encoding_conversion((unsigned char *) buf, (int) *len,
											 enc, GetDatabaseEncoding());
	if (out != buf)
		*len = strlen(out);
	return out;
}

/* import_file(kind text, path text, encoding text) RETURNS bigint. */
Datum
import_file(PG_FUNCTION_ARGS)
{
	const ImportKind *k = LookupKindOrError(PG_GETARG_TEXT_PP(0));
	char	   *path;
	char	   *encoding = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *buf;
	size_t		len;
	int			enc;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to import server files"),
				 errdetail("Only roles with privileges of the \"pg_read_server_files\" role may read files on the server."),
				 errhint("Use seongsu.import_text(kind, body) to send the file's contents from the client.")));
	enc = EncodingOrError(encoding);
	path = ResolvePath(PG_GETARG_TEXT_PP(1));
	buf = ReadServerFile(path, &len);
	buf = ToDatabaseEncoding(buf, &len, enc, encoding, path);
	PG_RETURN_INT64(ImportBuffer(k, buf, len));
}
