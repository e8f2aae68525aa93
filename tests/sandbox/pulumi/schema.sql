-- The Pulumi Service tables the purge runbook names (/work/shared/runbooks/pulumi-purge-soft-deleted.md),
-- plus two cascade children it does not list (UpdateEvents, StackTags), for the sandbox's MariaDB
-- database `pulumi`. The service's real schema is not public: the names, keys and delete rules are the
-- runbook's; the other columns are plausible filler. Loaded by tests/sandbox/sandbox (see
-- pulumi/seed.py, which writes the rows).
--
-- Ids are 32 lowercase hex digits (uuid4().hex) in ascii VARCHAR(32) columns; UpdateLogs and
-- UpdateEvents have BIGINT AUTO_INCREMENT ids, StackTags the key (stack_id, name). Times are unix
-- seconds (BIGINT); Programs.deleted_at is 0 for a live stack.
--
-- Foreign keys (all ON DELETE CASCADE but the last):
--   Programs.org_id                  -> Organizations.id
--   ProgramUpdates.program_id        -> Programs.id
--   Resources.program_id             -> Programs.id
--   Updates.stack_id                 -> Stacks.id
--   UpdateCheckpointInfo.update_id   -> Updates.id
--   UpdateLogs.update_id             -> Updates.id
--   UpdateEvents.update_id           -> Updates.id
--   StackTags.stack_id               -> Stacks.id
--   Stacks.active_update_id          -> Updates.id   ON DELETE RESTRICT: the circular key. Deleting a
--                                                    Stacks row fails (ERROR 1451) until it is NULL.
-- Programs.stack_id has no foreign key (the runbook deletes Stacks first), only an index; Stacks.org_id
-- has neither.

SET SESSION foreign_key_checks = 0;

CREATE TABLE Organizations (
    id           VARCHAR(32) CHARACTER SET ascii NOT NULL,
    name         VARCHAR(255) NOT NULL,
    github_login VARCHAR(255) NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY github_login (github_login)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE Programs (
    id           VARCHAR(32) CHARACTER SET ascii NOT NULL,
    org_id       VARCHAR(32) CHARACTER SET ascii NOT NULL,
    stack_id     VARCHAR(32) CHARACTER SET ascii NOT NULL,
    project_name VARCHAR(255) NOT NULL,
    stack_name   VARCHAR(255) NOT NULL,
    created_at   BIGINT NOT NULL,
    deleted_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY org_id_deleted_at (org_id, deleted_at),
    KEY stack_id (stack_id),
    CONSTRAINT Programs_org_id FOREIGN KEY (org_id) REFERENCES Organizations (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE ProgramUpdates (
    id         VARCHAR(32) CHARACTER SET ascii NOT NULL,
    program_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
    version    INT NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    result     VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY program_id (program_id),
    CONSTRAINT ProgramUpdates_program_id FOREIGN KEY (program_id) REFERENCES Programs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE Resources (
    id         VARCHAR(32) CHARACTER SET ascii NOT NULL,
    program_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
    urn        VARCHAR(1024) NOT NULL,
    type       VARCHAR(255) NOT NULL,
    PRIMARY KEY (id),
    KEY program_id (program_id),
    CONSTRAINT Resources_program_id FOREIGN KEY (program_id) REFERENCES Programs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Stacks and Updates reference each other: this needs foreign_key_checks = 0 (set above) to create.
-- (An ALTER TABLE ... ADD FOREIGN KEY ... ON DELETE RESTRICT instead would make MariaDB 10.11 report
-- the rule as NO ACTION in information_schema; the behaviour is the same.)
CREATE TABLE Stacks (
    id               VARCHAR(32) CHARACTER SET ascii NOT NULL,
    org_id           VARCHAR(32) CHARACTER SET ascii NOT NULL,
    name             VARCHAR(255) NOT NULL,
    active_update_id VARCHAR(32) CHARACTER SET ascii NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY active_update_id (active_update_id),
    CONSTRAINT Stacks_active_update_id FOREIGN KEY (active_update_id) REFERENCES Updates (id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE Updates (
    id         VARCHAR(32) CHARACTER SET ascii NOT NULL,
    stack_id   VARCHAR(32) CHARACTER SET ascii NOT NULL,
    version    INT NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    result     VARCHAR(32) NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY stack_id (stack_id),
    CONSTRAINT Updates_stack_id FOREIGN KEY (stack_id) REFERENCES Stacks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE UpdateCheckpointInfo (
    id         VARCHAR(32) CHARACTER SET ascii NOT NULL,
    update_id  VARCHAR(32) CHARACTER SET ascii NOT NULL,
    data_key   VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY update_id (update_id),
    CONSTRAINT UpdateCheckpointInfo_update_id FOREIGN KEY (update_id) REFERENCES Updates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE UpdateLogs (
    id        BIGINT NOT NULL AUTO_INCREMENT,
    update_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
    line      TEXT NOT NULL,
    PRIMARY KEY (id),
    KEY update_id (update_id),
    CONSTRAINT UpdateLogs_update_id FOREIGN KEY (update_id) REFERENCES Updates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE UpdateEvents (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    update_id  VARCHAR(32) CHARACTER SET ascii NOT NULL,
    seq        INT NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY update_id (update_id),
    CONSTRAINT UpdateEvents_update_id FOREIGN KEY (update_id) REFERENCES Updates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE StackTags (
    stack_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
    name     VARCHAR(255) NOT NULL,
    value    VARCHAR(1024) NOT NULL,
    PRIMARY KEY (stack_id, name),
    CONSTRAINT StackTags_stack_id FOREIGN KEY (stack_id) REFERENCES Stacks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
