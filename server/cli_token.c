/*
 * cli_token.c - `glassbox token create --role R --name N [--data-dir D]`:
 * creates an API token from the shell (printed once, stored hashed).
 * Layer: server.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli.h"
#include "storage/db.h"
#include "storage/tokens.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: glassbox token create --role admin|modeler|validator|viewer "
                 "--name NAME [--data-dir DIR]\n"
                 "Prints the new token once; only its SHA-256 is stored.  DIR defaults "
                 "to $GLASSBOX_DATA_DIR or ./var.\n");
}

int cli_token(int argc, char **argv)
{
    const char *role_name = NULL, *name = NULL, *data_dir = getenv("GLASSBOX_DATA_DIR");
    gb_error err;
    gb_error_clear(&err);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        usage(stderr);
        return 2;
    }
    const cli_option opts[] = {
        {"--role", &role_name}, {"--name", &name}, {"--data-dir", &data_dir}};
    int parsed = cli_parse_options("token", argc, argv, 2, opts,
                                   sizeof opts / sizeof opts[0], usage);
    if (parsed >= 0)
        return parsed;
    if (data_dir == NULL || data_dir[0] == '\0')
        data_dir = "./var";
    st_role role;
    if (st_role_parse(role_name, &role, &err) != GB_OK) {
        cli_print_error("token", &err);
        return 2;
    }
    if (name == NULL || name[0] == '\0' || strlen(name) > 100) {
        fprintf(stderr, "glassbox token: --name is required (1 to 100 bytes)\n");
        return 2;
    }
    char db_path[PATH_MAX + 32];
    snprintf(db_path, sizeof db_path, "%s/glassbox.db", data_dir);
    st_db *db = NULL;
    if (st_db_open(db_path, &db, &err) != GB_OK) {
        cli_print_error("token", &err);
        return 1;
    }
    char details[256];
    snprintf(details, sizeof details, "{\"role\":\"%s\",\"via\":\"cli\"}",
             st_role_name(role));
    st_audit_entry audit = {"cli", "token.create", NULL, details};
    st_token token;
    char secret[ST_TOKEN_SECRET_LEN + 1];
    gb_status status =
        st_token_create(db, name, role, "cli", &audit, &token, secret, &err);
    st_db_close(db);
    if (status != GB_OK) {
        cli_print_error("token", &err);
        return cli_exit_code(status);
    }
    printf("%s\n", secret);
    fprintf(stderr,
            "glassbox token: created %s token '%s' (id %s); the secret above is "
            "shown once\n",
            st_role_name(role), token.name, token.id);
    memset(secret, 0, sizeof secret);
    return 0;
}
