/*
 * secrets.c — the API keys (see secrets.h): lookup in seongsu.secrets, the
 * supabase_vault view and the deprecated settings, and redaction.
 *
 * The values found by the last SecretsLoad stay in this process (as the
 * settings always did) until the next load, which wipes them first.  Every
 * value found anywhere, used or not, is redacted from the strings passed to
 * SecretsRedact: raw, percent-encoded (any hex case, also twice), JSON
 * escaped, with '+' read as a space, in any letter case, and a key cut short
 * at the end of a truncated string.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "../settings.h"
#include "../safe_spi.h"
#include "secrets.h"

#define NUM_SECRETS 3
#define PARTIAL_MIN 4			/* key characters before a string's end that count as a cut key */

/* Where a key may be kept, in order of precedence. */
typedef enum SecretPlace
{
	PLACE_TABLE,				/* seongsu.secrets (seongsu.set_secret) */
	PLACE_VAULT,				/* vault.decrypted_secrets (supabase_vault) */
	PLACE_SETTING,				/* seongsu.<name> (deprecated) */
	NUM_PLACES
} SecretPlace;

static const char *const secret_names[NUM_SECRETS] = {"seoul_api_key", "data_go_kr_key", "alert_webhook_url"};

/* What the last SecretsLoad found, per key and place (NULL: nothing), in secrets_cxt. */
static char *found[NUM_SECRETS][NUM_PLACES];
static MemoryContext secrets_cxt = NULL;
static bool warned[NUM_SECRETS];

/*
 * Whether the last SecretsLoad found seongsu.secrets: an installation of
 * 0.1.0 not yet updated (ALTER EXTENSION daily_seongsu UPDATE) has none,
 * and its keys are the settings, as they were in 0.1.0.
 */
static bool table_installed = true;

/* The name of a key (also its name in seongsu.set_secret and in the vault). */
const char *
SecretName(SecretId id)
{
	return secret_names[id];
}

/* The secret's setting, or NULL when empty. */
static const char *
SettingValue(int id)
{
	const char *v = id == SECRET_SEOUL_API_KEY ? seongsu_seoul_api_key
		: id == SECRET_DATA_GO_KR_KEY ? seongsu_data_go_kr_key : seongsu_alert_webhook_url;

	return v && *v ? v : NULL;
}

/* Wipe and forget every value found before. */
static void
SecretsForget(void)
{
	int			i, p;

	for (i = 0; i < NUM_SECRETS; i++)
		for (p = 0; p < NUM_PLACES; p++)
			if (found[i][p])
			{
				explicit_bzero(found[i][p], strlen(found[i][p]));
				found[i][p] = NULL;
			}
	if (secrets_cxt)
		MemoryContextReset(secrets_cxt);
	else
		secrets_cxt = AllocSetContextCreate(TopMemoryContext, "seongsu secrets", ALLOCSET_SMALL_SIZES);
}

/* Keep value as the key called name found at place (unknown names and empty values are ignored). */
static void
Remember(SecretPlace place, const char *name, const char *value)
{
	int			i;

	if (!name || !value || !*value)
		return;
	for (i = 0; i < NUM_SECRETS; i++)
		if (strcmp(name, secret_names[i]) == 0 && !found[i][place])
			found[i][place] = MemoryContextStrdup(secrets_cxt, value);
}

/* Run a SELECT (caller has SPI), raising on failure. */
static void
Select(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI failed (%s): %s", SPI_result_code_string(rc), sql);
}

/* Remember the (name, value) rows of the last SELECT as found at place. */
static void
RememberRows(SecretPlace place)
{
	uint64		r;

	for (r = 0; r < SPI_processed; r++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		char	   *value = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);

		Remember(place, name, value);
		if (value)
			explicit_bzero(value, strlen(value));
	}
}

/*
 * Remember the keys of vault.decrypted_secrets (caller has SPI).  A vault
 * that cannot answer (say, its encryption is not set up) is skipped with a
 * WARNING, so that it stops neither the stored keys nor keyless sources.
 */
static void
ReadVault(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		Select("SELECT d.name::pg_catalog.text, d.decrypted_secret::pg_catalog.text "
			   "FROM vault.decrypted_secrets d "
			   "WHERE d.name::pg_catalog.text OPERATOR(pg_catalog.=) "
			   "ANY (ARRAY['seoul_api_key', 'data_go_kr_key', 'alert_webhook_url']::pg_catalog.text[])", 0, NULL, NULL);
		RememberRows(PLACE_VAULT);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = resowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = resowner;
		ereport(WARNING,
				(errmsg("could not read vault.decrypted_secrets: %s", SecretsRedact(edata->message)),
				 errdetail("Its keys are not used; the stored keys and the settings are.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * Read the stored and the vault keys as the extension's owner (caller has
 * SPI).  The vault view is read only when it and its schema belong to a
 * superuser or to the owner: anybody else's view could run their functions
 * with the owner's (in the worker, a superuser's) rights.
 */
static void
ReadAsOwner(void)
{
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	bool		isnull;
	Oid			types[1] = {OIDOID};
	Datum		v[1];

	Select("SELECT e.extowner FROM pg_catalog.pg_extension e "
		   "WHERE e.extname OPERATOR(pg_catalog.=) 'daily_seongsu'", 0, NULL, NULL);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension daily_seongsu is not installed in this database")));
	owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	v[0] = ObjectIdGetDatum(owner);
	table_installed = OidIsValid(get_relname_relid("secrets", get_namespace_oid("seongsu", false)));
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		if (table_installed)
		{
			Select("SELECT s.name, s.value FROM seongsu.secrets s", 0, NULL, NULL);
			RememberRows(PLACE_TABLE);
		}
		Select("SELECT c.oid FROM pg_catalog.pg_class c "
			   "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
			   "JOIN pg_catalog.pg_roles cr ON cr.oid OPERATOR(pg_catalog.=) c.relowner "
			   "JOIN pg_catalog.pg_roles nr ON nr.oid OPERATOR(pg_catalog.=) n.nspowner "
			   "WHERE n.nspname OPERATOR(pg_catalog.=) 'vault' "
			   "AND c.relname OPERATOR(pg_catalog.=) 'decrypted_secrets' "
			   "AND (cr.rolsuper OR c.relowner OPERATOR(pg_catalog.=) $1) "
			   "AND (nr.rolsuper OR n.nspowner OPERATOR(pg_catalog.=) $1) "
			   "AND pg_catalog.has_table_privilege($1, c.oid, 'SELECT')", 1, types, v);
		if (SPI_processed > 0)
			ReadVault();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
}

/* WARNING, once per process and key, that the key is (also) a setting. */
static void
WarnSetting(int id)
{
	const char *name = secret_names[id];
	bool		used = !found[id][PLACE_TABLE] && !found[id][PLACE_VAULT];

	if (warned[id])
		return;
	warned[id] = true;
	if (!table_installed)
	{
		ereport(WARNING,
				(errcode(ERRCODE_WARNING_DEPRECATED_FEATURE),
				 errmsg("the API key %s is set as the setting seongsu.%s", name, name),
				 errdetail("The extension's installed version keeps keys only in settings.  Where the library is not loaded, any role can SHOW a key set in the server's configuration."),
				 errhint("Update the extension with ALTER EXTENSION daily_seongsu UPDATE, then, as the extension's owner, store the key with SELECT seongsu.set_secret('%s', '...') and remove the setting with ALTER SYSTEM RESET seongsu.%s and SELECT pg_reload_conf().",
						 name, name)));
		return;
	}
	ereport(WARNING,
			(errcode(ERRCODE_WARNING_DEPRECATED_FEATURE),
			 errmsg("the API key %s is set as the setting seongsu.%s", name, name),
			 used
			 ? errdetail("The setting is used because no stored or vault secret of that name exists.  Where the library is not loaded, any role can SHOW a key set in the server's configuration.")
			 : errdetail("The stored or vault secret of that name is used and the setting is ignored.  Where the library is not loaded, any role can SHOW a key set in the server's configuration."),
			 errhint("As the extension's owner, store the key with SELECT seongsu.set_secret('%s', '...') (or as a supabase_vault secret named %s), then remove the setting with ALTER SYSTEM RESET seongsu.%s and SELECT pg_reload_conf().",
					 name, name, name)));
}

/*
 * Look the keys up again: seongsu.secrets, then the vault, then the
 * settings.  Runs in the caller's transaction, or in one of its own when
 * none is open (the worker fetches outside transactions).
 */
void
SecretsLoad(void)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		own = !IsTransactionState();
	int			spi;
	int			i;

	SecretsForget();
	if (own)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	}
	PG_TRY();
	{
		spi = SsSpiConnect();
		ReadAsOwner();
		SsSpiFinish(spi);
	}
	PG_CATCH();
	{
		if (own)
			AbortCurrentTransaction();
		MemoryContextSwitchTo(caller);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (own)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	MemoryContextSwitchTo(caller);
	for (i = 0; i < NUM_SECRETS; i++)
	{
		const char *setting = SettingValue(i);

		if (setting)
		{
			found[i][PLACE_SETTING] = MemoryContextStrdup(secrets_cxt, setting);
			if (i != SECRET_ALERT_WEBHOOK_URL)
				WarnSetting(i);
		}
	}
}

/* The key a job uses (see SecretsLoad), or NULL when it is nowhere. */
const char *
SecretGet(SecretId id)
{
	int			p;

	for (p = 0; p < NUM_PLACES; p++)
		if (found[id][p])
			return found[id][p];
	return NULL;
}

/* Whether the two characters of s are the hexadecimal digits of byte c (either case). */
static bool
HexIs(const char *s, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	return s[0] && s[1] &&
		pg_ascii_tolower((unsigned char) s[0]) == hex[c >> 4] &&
		pg_ascii_tolower((unsigned char) s[1]) == hex[c & 15];
}

/* Bytes at s that spell the key character c in one of the ways upstreams echo it, or 0. */
static int
SpellsChar(const char *s, char c)
{
	unsigned char u = (unsigned char) c;

	if (s[0] == '%' && s[1] == '2' && s[2] == '5' && HexIs(s + 3, u))
		return 5;				/* encoded twice */
	if (s[0] == '\\' && s[1] == 'u' && s[2] == '0' && s[3] == '0' && HexIs(s + 4, u))
		return 6;				/* JSON \u00XX */
	if (s[0] == '%' && HexIs(s + 1, u))
		return 3;
	if (s[0] == '\\' && s[1] == c && (c == '/' || c == '\\' || c == '"'))
		return 2;				/* JSON \/ */
	if (s[0] && pg_ascii_tolower((unsigned char) s[0]) == pg_ascii_tolower(u))
		return 1;
	if ((c == '+' && s[0] == ' ') || (c == ' ' && s[0] == '+'))
		return 1;
	return 0;
}

/*
 * Bytes at s that spell the whole key, or, when s ends (possibly in the
 * middle of an escape) after at least PARTIAL_MIN of its characters, the
 * rest of s; else 0.
 */
static size_t
SpellsKey(const char *s, const char *key)
{
	size_t		at = 0;
	size_t		k;

	for (k = 0; key[k]; k++)
	{
		int			n = SpellsChar(s + at, key[k]);

		if (n == 0)
		{
			size_t		rest = strlen(s + at);

			if (k >= PARTIAL_MIN && (rest == 0 || (rest < 6 && (s[at] == '%' || s[at] == '\\'))))
				return at + rest;
			return 0;
		}
		at += n;
	}
	return at;
}

/* A palloc'd copy of s in which every spelling of every key found anywhere is ***. */
char *
SecretsRedact(const char *s)
{
	const char *keys[NUM_SECRETS * NUM_PLACES + NUM_SECRETS];
	int			nkeys = 0;
	int			i, p;
	StringInfoData out;
	size_t		at = 0;

	if (!s)
		return NULL;
	for (i = 0; i < NUM_SECRETS; i++)
	{
		for (p = 0; p < NUM_PLACES; p++)
			if (found[i][p])
				keys[nkeys++] = found[i][p];
		if (SettingValue(i))
			keys[nkeys++] = SettingValue(i);
	}
	if (nkeys == 0)
		return pstrdup(s);
	initStringInfo(&out);
	while (s[at])
	{
		size_t		best = 0;

		for (i = 0; i < nkeys; i++)
			best = Max(best, SpellsKey(s + at, keys[i]));
		if (best > 0)
		{
			appendStringInfoString(&out, "***");
			at += best;
		}
		else
			appendStringInfoChar(&out, s[at++]);
	}
	return out.data;
}

/* Redact a NUL-terminated string in its fixed-size buffer (cut at a character boundary if it grows). */
void
SecretsRedactBuf(char *buf, size_t size)
{
	char	   *r;
	int			len;

	if (buf[0] == '\0')
		return;
	r = SecretsRedact(buf);
	len = (int) strlen(r);
	if ((size_t) len >= size)
		len = pg_mbcliplen(r, len, (int) size - 1);
	memcpy(buf, r, len);
	buf[len] = '\0';
	pfree(r);
}
