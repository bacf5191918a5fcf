/* vf_db_query.c - run SQL on the server's database and print the last statement's rows as a JSON
 * array of arrays (the tests read the store with it). DB is a SQLite file or a postgresql:// URL,
 * as the server's --db; the SQL may hold several statements (a test writing an older schema).
 * Exit 0, or 1 with the database's message on stderr (e.g. the audit table's append-only rule). */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void str(FILE *o, const unsigned char *s) {
    fputc('"', o);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(o, "\\%c", *s);
        else if (*s < 0x20) fprintf(o, "\\u%04x", *s);
        else fputc(*s, o);
    }
    fputc('"', o);
}

static int sqlite(const char *path, const char *sql) {
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "vf_db_query: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    /* statement after statement; the rows printed are the last one's */
    char *rows = NULL;
    size_t rows_len = 0;
    for (const char *tail = sql; tail && *tail;) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
            fprintf(stderr, "vf_db_query: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        if (!st) break;   /* whitespace or a comment at the end */
        free(rows);
        FILE *out = open_memstream(&rows, &rows_len);
        int r, n = 0;
        fputc('[', out);
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            fprintf(out, "%s[", n++ ? "," : "");
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                if (i) fputc(',', out);
                switch (sqlite3_column_type(st, i)) {
                case SQLITE_INTEGER: fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i)); break;
                case SQLITE_FLOAT: fprintf(out, "%.17g", sqlite3_column_double(st, i)); break;
                case SQLITE_NULL: fprintf(out, "null"); break;
                default: str(out, sqlite3_column_text(st, i)); break;
                }
            }
            fputc(']', out);
        }
        fputc(']', out);
        fclose(out);
        if (r != SQLITE_DONE) { fprintf(stderr, "vf_db_query: %s\n", sqlite3_errmsg(db)); return 1; }
        sqlite3_finalize(st);
    }
    printf("%s\n", rows ? rows : "[]");
    free(rows);
    sqlite3_close(db);
    return 0;
}

/* PostgreSQL type oids printed as JSON numbers or booleans; everything else as text. */
static int numeric_oid(Oid t) { return t == 20 || t == 21 || t == 23 || t == 26 || t == 700 || t == 701 || t == 1700; }

static int postgres(const char *url, const char *sql) {
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) { fprintf(stderr, "vf_db_query: %s", PQerrorMessage(c)); return 1; }
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "vf_db_query: %s", PQresultErrorMessage(r));
        return 1;
    }
    putchar('[');
    for (int row = 0; row < PQntuples(r); row++) {
        printf("%s[", row ? "," : "");
        for (int i = 0; i < PQnfields(r); i++) {
            if (i) putchar(',');
            const char *v = PQgetvalue(r, row, i);
            if (PQgetisnull(r, row, i)) printf("null");
            else if (numeric_oid(PQftype(r, i))) printf("%s", v);
            else if (PQftype(r, i) == 16) printf("%s", v[0] == 't' ? "true" : "false");
            else str(stdout, (const unsigned char *)v);
        }
        putchar(']');
    }
    printf("]\n");
    PQclear(r);
    PQfinish(c);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: vf_db_query DB SQL\n"); return 2; }
    if (!strncmp(argv[1], "postgresql://", 13) || !strncmp(argv[1], "postgres://", 11)) return postgres(argv[1], argv[2]);
    return sqlite(argv[1], argv[2]);
}
