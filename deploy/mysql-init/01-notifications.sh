#!/bin/sh
# Creates the notification service's own database and user; mounted into the MariaDB container's
# /docker-entrypoint-initdb.d, so it runs once, when the data volume is still empty (change the
# NOTIFICATION_DB_* settings later and you must `docker compose down -v` or create them by hand).
# The entrypoint runs this file when it is executable and sources it otherwise: it works both ways,
# so it sets no shell options and uses only variables prefixed with `notification_`.

notification_db="${NOTIFICATION_DB_NAME:-notifications}"
notification_user="${NOTIFICATION_DB_USER:-notifyuser}"
# The password may come as a file, as the image takes MARIADB_PASSWORD_FILE (a Docker or Kubernetes secret).
if [ -n "${NOTIFICATION_DB_PASSWORD_FILE:-}" ] && [ -z "${NOTIFICATION_DB_PASSWORD:-}" ]; then
    notification_password=$(cat "$NOTIFICATION_DB_PASSWORD_FILE") || {
        echo "01-notifications.sh: NOTIFICATION_DB_PASSWORD_FILE=${NOTIFICATION_DB_PASSWORD_FILE}: cannot read it" >&2
        exit 1
    }
else
    notification_password="${NOTIFICATION_DB_PASSWORD:-notifypassword}"
fi

# Quote for SQL: identifiers in backticks (double any backtick), strings in single quotes
# (escape backslashes and quotes).
notification_db_sql=$(printf '%s' "$notification_db" | sed 's/`/``/g')
notification_user_sql=$(printf '%s' "$notification_user" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")
notification_password_sql=$(printf '%s' "$notification_password" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")

echo "01-notifications.sh: creating database ${notification_db} and user ${notification_user}"
# During initialisation the server listens only on its socket, as root with MARIADB_ROOT_PASSWORD.
MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}" mariadb --protocol=socket -uroot -hlocalhost <<SQL
CREATE DATABASE IF NOT EXISTS \`${notification_db_sql}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${notification_user_sql}'@'%' IDENTIFIED BY '${notification_password_sql}';
GRANT ALL PRIVILEGES ON \`${notification_db_sql}\`.* TO '${notification_user_sql}'@'%';
FLUSH PRIVILEGES;
SQL
