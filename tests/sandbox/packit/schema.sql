-- Packit's PostgreSQL schema for the opsdeck sandbox: what a real Packit database holds after Flyway ran
-- Packit's 11 migrations (/work/shared/reference/packit-schema.md, read from mrc-ide/packit at d8d9bdfd,
-- api/app/src/main/resources/db/migration/; MIT licence). The migrations are replayed here in their order,
-- statement for statement, rather than written as their end state: so every name PostgreSQL generates
-- (packet_name_idx, user_role_user_id_fkey, role_permission_check, ...), every column's position, and the
-- ids of the rows the migrations insert (role ADMIN = 1, permissions 1-6, ADMIN's grants 1-6, the SERVICE
-- user's user_role row 1) come out as on the real database. tests/integration/tst_packitschema.cpp checks
-- the result against tests/data/packit-schema-catalog.txt.
--
-- What matters for opsdeck on this schema:
--   * NO foreign key between packet and packet_group (joined by packet.name = packet_group.name);
--   * every foreign key is ON DELETE CASCADE, except run_info.user_id and document.parent (NO ACTION);
--   * run_info has NO foreign key to packet (its rows outlive a wipe); run_info.packet_id is UNIQUE;
--   * one_time_token.packet_id has NO index (so each cascaded delete scans the table).
--
-- Loaded by tests/sandbox/sandbox into a template database that each instance's database copies, before
-- packit/seed.py's rows (which add Flyway's history rows, the row the app writes when it starts, and data).

-- Flyway's own table, created before the first migration (Flyway's createMetaDataTable.sql for PostgreSQL).
CREATE TABLE "flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");

-- V20240503__initial_schema.sql
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE IF NOT EXISTS "user"
(
    "id"             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    "username"       TEXT    NOT NULL UNIQUE,
    "display_name"   TEXT,
    "password"       TEXT,
    "email"          TEXT,
    "disabled"       BOOLEAN NOT NULL DEFAULT FALSE,
    "user_source"    TEXT,
    "last_logged_in" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "role"
(
    "id"          SERIAL PRIMARY KEY,
    "name"        text    NOT NULL UNIQUE,
    "is_username" BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS "permission"
(
    "id"          SERIAL PRIMARY KEY,
    "name"        text UNIQUE NOT NULL,
    "description" text
);

CREATE TABLE IF NOT EXISTS "tag"
(
    "id"   SERIAL PRIMARY KEY,
    "name" text UNIQUE NOT NULL
);

CREATE TABLE IF NOT EXISTS "packet_group"
(
    "id"   SERIAL PRIMARY KEY,
    "name" text UNIQUE NOT NULL
);

CREATE TABLE IF NOT EXISTS "packet"
(
    "id"           TEXT PRIMARY KEY NOT NULL,
    "name"         TEXT             NOT NULL,
    "display_name" TEXT             NULL,
    "parameters"   JSON             NULL,
    "published"    BOOLEAN          NOT NULL DEFAULT FALSE,
    "import_time"  DOUBLE PRECISION NOT NULL,
    "start_time"   DOUBLE PRECISION NOT NULL,
    "end_time"     DOUBLE PRECISION NOT NULL
);

CREATE TABLE IF NOT EXISTS "user_role"
(
    "id"      SERIAL PRIMARY KEY,
    "user_id" UUID NOT NULL,
    "role_id" INT  NOT NULL,
    FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("role_id") REFERENCES "role" ("id") ON DELETE CASCADE,
    CONSTRAINT user_role_unique UNIQUE ("user_id", "role_id")
);

CREATE TABLE IF NOT EXISTS "role_permission"
(
    "id"              SERIAL PRIMARY KEY,
    "role_id"         int NOT NULL,
    "permission_id"   int NOT NULL,
    "packet_id"       text,
    "packet_group_id" int,
    "tag_id"          int,
    FOREIGN KEY ("role_id") REFERENCES "role" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("permission_id") REFERENCES "permission" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("packet_id") REFERENCES "packet" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("packet_group_id") REFERENCES "packet_group" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("tag_id") REFERENCES "tag" ("id") ON DELETE CASCADE,
    -- All NULL or only one of the following columns can be NOT NULL
    CHECK (
            (packet_id IS NULL AND packet_group_id IS NULL AND tag_id IS NULL) OR
            (packet_id IS NOT NULL AND packet_group_id IS NULL AND tag_id IS NULL) OR
            (packet_id IS NULL AND packet_group_id IS NOT NULL AND tag_id IS NULL) OR
            (packet_id IS NULL AND packet_group_id IS NULL AND tag_id IS NOT NULL)
        )
);

CREATE TABLE IF NOT EXISTS "packet_tag"
(
    "id"        SERIAL PRIMARY KEY,
    "packet_id" TEXT NOT NULL,
    "tag_id"    INT  NOT NULL,
    FOREIGN KEY ("packet_id") REFERENCES "packet" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("tag_id") REFERENCES "tag" ("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS "pinned_packet_global"
(
    "ordering" INTEGER NOT NULL UNIQUE,
    "report"   TEXT    NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS "document"
(
    "path"         TEXT PRIMARY KEY NOT NULL,
    "name"         TEXT             NOT NULL,
    "show"         BOOLEAN          NOT NULL DEFAULT TRUE,
    "display_name" TEXT,
    "description"  TEXT,
    "parent"       TEXT             NULL,
    "is_file"      BOOLEAN          NOT NULL DEFAULT TRUE,
    "external"     BOOLEAN          NOT NULL DEFAULT FALSE,
    FOREIGN KEY ("parent") REFERENCES "document" ("path")
);

CREATE TABLE IF NOT EXISTS "settings"
(
    "auth_allow_guest" BOOLEAN
);

CREATE INDEX ON "packet" ("name");
CREATE INDEX ON "user" ("username");
CREATE INDEX ON "user" ("email");
CREATE INDEX ON "user_role" ("user_id");
CREATE INDEX ON "user_role" ("role_id");
CREATE INDEX ON "role_permission" ("role_id");
CREATE INDEX ON "role_permission" ("permission_id");
CREATE INDEX ON "role_permission" ("packet_id");
CREATE INDEX ON "role_permission" ("packet_group_id");
CREATE INDEX ON "role_permission" ("tag_id");
CREATE INDEX ON "packet_tag" ("packet_id");
CREATE INDEX ON "packet_tag" ("tag_id");
CREATE INDEX ON "packet_group" ("name");

-- V20240504__initial_data.sql
INSERT INTO "role" ("name", is_username) VALUES ('ADMIN', false);

INSERT INTO "permission" ("name", "description")
VALUES ('packet.read', 'Read packets'),
       ('packet.run', 'Run packets'),
       ('outpack.read', 'Read from outpack server'),
       ('outpack.write', 'Write to outpack server'),
       ('user.manage', 'Manage users');

WITH permission_ids AS (SELECT id FROM "permission")
INSERT INTO "role_permission" ("role_id", "permission_id")
SELECT r.id, p.id
FROM "role" r CROSS JOIN permission_ids p
WHERE r.name = 'ADMIN';

-- V20240820__run_info_table.sql
CREATE TABLE IF NOT EXISTS "run_info"
(
    "task_id"             TEXT PRIMARY KEY NOT NULL,
    "packet_group_name"   TEXT NOT NULL,
    "status"              TEXT NOT NULL,
    "commit_hash"         TEXT NOT NULL,
    "branch"              TEXT NOT NULL,
    "parameters"          JSON,
    "logs"                JSON,
    "time_started"        DOUBLE PRECISION,
    "time_completed"      DOUBLE PRECISION,
    "time_queued"         DOUBLE PRECISION,
    "queue_position"      INT,
    "packet_id"           TEXT
);

-- V20240912__update_run_info.sql
ALTER TABLE "run_info"
    ADD COLUMN "user_id" UUID NOT NULL,
    ADD FOREIGN KEY ("user_id") REFERENCES "user" ("id");
CREATE INDEX ON "run_info" ("user_id");

-- V20240919__create_service_account.sql
WITH inserted_user AS (
    INSERT INTO "user" ("username", "display_name", "user_source")
    VALUES ('SERVICE', 'Service Account', 'service')
    RETURNING id
)
INSERT INTO "user_role" ("user_id", "role_id")
SELECT inserted_user.id, role.id
FROM inserted_user CROSS JOIN "role"
WHERE role.name = 'ADMIN';

-- V20250325__remove_published.sql
ALTER TABLE "packet" DROP COLUMN IF EXISTS "published";

-- V20250326__add_packet_manage_perm.sql
INSERT INTO "permission" ("name", "description")
VALUES ('packet.manage', 'Manage read permission on packets')
ON CONFLICT ("name") DO NOTHING;

INSERT INTO "role_permission" ("role_id", "permission_id")
SELECT r.id, p.id
FROM "role" r CROSS JOIN "permission" p
WHERE r.name = 'ADMIN' AND p.name = 'packet.manage';

-- V20250410__create_one_time_token_table.sql
CREATE TABLE IF NOT EXISTS "one_time_token"
(
    "id"         UUID PRIMARY KEY,
    "packet_id"  TEXT                     NOT NULL,
    "file_paths" TEXT[]                   NOT NULL,
    "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
    FOREIGN KEY ("packet_id") REFERENCES "packet" ("id") ON DELETE CASCADE
);

-- V20250619__run_info_unique_packet_col.sql
ALTER TABLE "run_info" ADD CONSTRAINT "run_info_packet_id_unique" UNIQUE ("packet_id");

-- V20250623__create_pin_table.sql
DROP TABLE IF EXISTS "pinned_packet_global";

CREATE TABLE IF NOT EXISTS "pin"
(
    "id"        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    "packet_id" TEXT UNIQUE NOT NULL,
    FOREIGN KEY ("packet_id") REFERENCES "packet" ("id") ON DELETE CASCADE
);

-- V20250706__packet_desc_and_tracker.sql
ALTER TABLE "packet" ADD COLUMN "description" TEXT NULL;

CREATE TABLE IF NOT EXISTS one_time_job
(
    id     SERIAL PRIMARY KEY,
    name   VARCHAR(255) UNIQUE                                                             NOT NULL,
    status VARCHAR(20) CHECK (status IN ('NOT_STARTED', 'STARTED', 'COMPLETED', 'FAILED')) NOT NULL,
    error  TEXT
);
