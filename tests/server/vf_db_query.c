/* vf_db_query.c - run one SQL statement on a SQLite file and print the rows as a JSON array of
 * arrays (the tests read the server's database with it; no dependency beyond libsqlite3).
 * Exit 0, or 1 with the SQLite message on stderr (e.g. the audit table's append-only trigger). */
#include <sqlite3.h>
#include <stdio.h>

static void str(const unsigned char *s) {
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if (*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: vf_db_query DB SQL\n"); return 2; }
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, argv[2], -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vf_db_query: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    int r, rows = 0;
    putchar('[');
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        printf("%s[", rows++ ? "," : "");
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            if (i) putchar(',');
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(st, i)); break;
            case SQLITE_FLOAT: printf("%.17g", sqlite3_column_double(st, i)); break;
            case SQLITE_NULL: printf("null"); break;
            default: str(sqlite3_column_text(st, i)); break;
            }
        }
        putchar(']');
    }
    printf("]\n");
    if (r != SQLITE_DONE) { fprintf(stderr, "vf_db_query: %s\n", sqlite3_errmsg(db)); return 1; }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
