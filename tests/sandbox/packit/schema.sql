-- Packit's PostgreSQL schema for the opsdeck sandbox, written from /work/shared/reference/packit.md
-- section 1 (the state after Packit's Flyway migrations up to V20250706). Not a copy of upstream's
-- migrations: column types the reference does not spell out are plausible choices.
--
-- What matters for opsdeck, exactly as the reference says:
--   * NO foreign key between packet and packet_group (joined by packet.name = packet_group.name);
--   * every foreign key to packet or packet_group is ON DELETE CASCADE (role_permission,
--     packet_tag, one_time_token, pin);
--   * run_info has NO foreign key to packet (its rows outlive a wipe); run_info.packet_id is UNIQUE;
--   * one_time_token.packet_id has NO index (so each cascaded delete scans the table);
--   * role_permission has a CHECK that at most one scope column is set.
-- Foreign keys the reference does not qualify (to "user", role, permission, tag) are left at the
-- default NO ACTION.
--
-- Loaded by tests/sandbox/sandbox into one database per instance, before the seed data.

CREATE TABLE flyway_schema_history (
    installed_rank INTEGER NOT NULL,
    version VARCHAR(50),
    description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL,
    script VARCHAR(1000) NOT NULL,
    checksum INTEGER,
    installed_by VARCHAR(100) NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INTEGER NOT NULL,
    success BOOLEAN NOT NULL,
    CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)
);
CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);

CREATE TABLE packet_group (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE INDEX packet_group_name_idx ON packet_group (name);

CREATE TABLE packet (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NULL,
    parameters JSON NULL,
    import_time DOUBLE PRECISION NOT NULL,
    start_time DOUBLE PRECISION NOT NULL,
    end_time DOUBLE PRECISION NOT NULL,
    description TEXT NULL
);
CREATE INDEX packet_name_idx ON packet (name);

CREATE TABLE "user" (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NULL,
    password TEXT NULL,
    email TEXT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    user_source TEXT NOT NULL,
    last_logged_in TIMESTAMP WITH TIME ZONE NULL
);

CREATE TABLE role (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    is_username BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE user_role (
    user_id UUID NOT NULL REFERENCES "user" (id),
    role_id INTEGER NOT NULL REFERENCES role (id),
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE permission (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NULL
);

CREATE TABLE tag (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE role_permission (
    id SERIAL PRIMARY KEY,
    role_id INTEGER NOT NULL REFERENCES role (id),
    permission_id INTEGER NOT NULL REFERENCES permission (id),
    packet_id TEXT NULL REFERENCES packet (id) ON DELETE CASCADE,
    packet_group_id INTEGER NULL REFERENCES packet_group (id) ON DELETE CASCADE,
    tag_id INTEGER NULL REFERENCES tag (id),
    CONSTRAINT role_permission_at_most_one_scope
        CHECK (num_nonnulls(packet_id, packet_group_id, tag_id) <= 1)
);

CREATE TABLE packet_tag (
    id SERIAL PRIMARY KEY,
    packet_id TEXT NOT NULL REFERENCES packet (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag (id)
);

-- Replaced pinned_packet_global (V20250623).
CREATE TABLE pin (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    packet_id TEXT NOT NULL UNIQUE REFERENCES packet (id) ON DELETE CASCADE
);

-- V20250410. packet_id deliberately has no index (reference section 6: this is what makes
-- DELETE FROM packet slow at 50,000 packets).
CREATE TABLE one_time_token (
    id UUID PRIMARY KEY,
    packet_id TEXT NOT NULL REFERENCES packet (id) ON DELETE CASCADE,
    file_paths TEXT[] NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- V20240820/V20240912/V20250619. No foreign key to packet or packet_group: rows are left behind
-- when packets are deleted.
CREATE TABLE run_info (
    task_id TEXT PRIMARY KEY,
    packet_group_name TEXT NOT NULL,
    status TEXT NOT NULL,
    commit_hash TEXT NOT NULL,
    branch TEXT NOT NULL,
    parameters JSON NULL,
    logs TEXT[] NULL,
    time_queued DOUBLE PRECISION NULL,
    time_started DOUBLE PRECISION NULL,
    time_complete DOUBLE PRECISION NULL,
    queue_position INTEGER NULL,
    packet_id TEXT NULL UNIQUE,
    user_id UUID NOT NULL REFERENCES "user" (id)
);

-- Tables the reference lists without detail; present so the schema is complete.
CREATE TABLE document (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    content TEXT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NULL
);

CREATE TABLE one_time_job (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    completed_at TIMESTAMP WITH TIME ZONE NULL
);
