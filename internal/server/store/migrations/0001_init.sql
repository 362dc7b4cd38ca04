-- Alerts from every node, one row per message id. Partitioned by day on
-- the alert's own time, so that retention drops whole partitions and a
-- redelivered message (same id, same time) lands in the same partition,
-- where the primary key makes its insert a no-op.
CREATE TABLE alerts (
    time         timestamptz NOT NULL,
    msg_id       text        NOT NULL,
    node         text        NOT NULL,
    agent        text        NOT NULL,
    received     timestamptz NOT NULL DEFAULT now(),
    rule         text        NOT NULL,
    priority     text        NOT NULL,
    source       text        NOT NULL,
    hostname     text        NOT NULL,
    container_id text        NOT NULL DEFAULT '',
    k8s_ns       text        NOT NULL DEFAULT '',
    k8s_pod      text        NOT NULL DEFAULT '',
    body         jsonb       NOT NULL,
    PRIMARY KEY (time, msg_id)
) PARTITION BY RANGE (time);

-- The API pages by (time, msg_id) descending, filtered by one of these.
CREATE INDEX alerts_node_time ON alerts (node, time DESC, msg_id DESC);
CREATE INDEX alerts_rule_time ON alerts (rule, time DESC, msg_id DESC);
CREATE INDEX alerts_priority_time ON alerts (priority, time DESC, msg_id DESC);

-- One row per node: what its agent last said and what the server made of it.
CREATE TABLE agents (
    node            text PRIMARY KEY,
    agent           text        NOT NULL,
    boot_id         text        NOT NULL DEFAULT '',
    version         text        NOT NULL DEFAULT '',
    started         timestamptz NOT NULL,
    first_seen      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz NOT NULL DEFAULT now(),
    interval_ms     bigint      NOT NULL,
    heartbeat_seq   bigint      NOT NULL DEFAULT 0,
    counters        jsonb       NOT NULL DEFAULT '{}',
    state           text        NOT NULL DEFAULT 'up',
    state_since     timestamptz NOT NULL DEFAULT now(),
    restarts        bigint      NOT NULL DEFAULT 0
);

-- Messages refused, by reason, for the API and for post-mortems; the
-- bodies are not kept.
CREATE TABLE rejects (
    reason  text   PRIMARY KEY,
    count   bigint NOT NULL DEFAULT 0,
    last    timestamptz NOT NULL DEFAULT now(),
    detail  text   NOT NULL DEFAULT ''
);
