BEGIN;

-- Running upgrade 0005 -> 0006

SET LOCAL lock_timeout = '5s';

SET LOCAL statement_timeout = '5min';

CREATE TABLE sign_in_throttles (
    scope VARCHAR(400) NOT NULL, 
    -- squawk-ignore prefer-bigint-over-int -- failed sign-ins in a row of one account or address: the back-off stops them long before int's 2.1 billion
    failures INTEGER DEFAULT 0 NOT NULL, 
    last_failure_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    blocked_until TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT sign_in_throttles_pkey PRIMARY KEY (scope), 
    CONSTRAINT sign_in_throttles_failures_nonnegative_check CHECK (failures >= 0)
);

CREATE TABLE api_tokens (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    user_id UUID NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    token_hash BYTEA NOT NULL, 
    prefix VARCHAR(16) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    last_used_at TIMESTAMP WITH TIME ZONE, 
    expires_at TIMESTAMP WITH TIME ZONE, 
    revoked_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id), 
    CONSTRAINT api_tokens_name_not_blank_check CHECK (length(btrim(name)) > 0), 
    CONSTRAINT api_tokens_token_hash_sha256_check CHECK (octet_length(token_hash) = 32), 
    CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

CREATE TABLE auth_sessions (
    id UUID DEFAULT gen_random_uuid() NOT NULL, 
    user_id UUID NOT NULL, 
    token_hash BYTEA NOT NULL, 
    csrf_token VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    last_seen_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    revoked_at TIMESTAMP WITH TIME ZONE, 
    user_agent VARCHAR(400), 
    CONSTRAINT auth_sessions_pkey PRIMARY KEY (id), 
    CONSTRAINT auth_sessions_expires_after_creation_check CHECK (expires_at > created_at), 
    CONSTRAINT auth_sessions_csrf_token_long_enough_check CHECK (length(csrf_token) >= 32), 
    CONSTRAINT auth_sessions_token_hash_sha256_check CHECK (octet_length(token_hash) = 32), 
    CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT auth_sessions_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id);

CREATE TABLE idempotency_keys (
    user_id UUID NOT NULL, 
    key VARCHAR(255) NOT NULL, 
    method VARCHAR(10) NOT NULL, 
    path TEXT NOT NULL, 
    fingerprint BYTEA NOT NULL, 
    -- squawk-ignore prefer-bigint-over-smallint -- an HTTP status code: three digits, checked to be 200-299
    response_status SMALLINT NOT NULL, 
    response_body JSONB NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key), 
    CONSTRAINT idempotency_keys_key_not_empty_check CHECK (length(key) > 0), 
    CONSTRAINT idempotency_keys_fingerprint_sha256_check CHECK (octet_length(fingerprint) = 32), 
    CONSTRAINT idempotency_keys_response_status_success_check CHECK (response_status BETWEEN 200 AND 299), 
    CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0006.sign_in_throttles') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0006.sign_in_throttles'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'sign_in_throttles'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO sign_in_throttles (%s) SELECT %s FROM cidery_archive_0006.sign_in_throttles',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0006.sign_in_throttles;
        RAISE NOTICE 'restored % rows of sign_in_throttles from cidery_archive_0006', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0006.api_tokens') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0006.api_tokens'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'api_tokens'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO api_tokens (%s) SELECT %s FROM cidery_archive_0006.api_tokens',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0006.api_tokens;
        RAISE NOTICE 'restored % rows of api_tokens from cidery_archive_0006', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0006.auth_sessions') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0006.auth_sessions'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'auth_sessions'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO auth_sessions (%s) SELECT %s FROM cidery_archive_0006.auth_sessions',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0006.auth_sessions;
        RAISE NOTICE 'restored % rows of auth_sessions from cidery_archive_0006', restored;
    END IF;
END
$$;

DO $$
DECLARE
    column_list text;
    select_list text;
    restored bigint;
BEGIN
    IF to_regclass('cidery_archive_0006.idempotency_keys') IS NOT NULL THEN
        SELECT string_agg(format('%I', live.attname), ', ' ORDER BY live.attnum),
               string_agg(format('%I::%s', live.attname,
                                 format_type(live.atttypid, live.atttypmod)),
                          ', ' ORDER BY live.attnum)
          INTO column_list, select_list
          FROM pg_attribute live
          JOIN pg_attribute kept
            ON kept.attrelid = 'cidery_archive_0006.idempotency_keys'::regclass
           AND kept.attname = live.attname AND NOT kept.attisdropped
         WHERE live.attrelid = 'idempotency_keys'::regclass AND live.attnum > 0
           AND NOT live.attisdropped AND live.attgenerated = '';
        EXECUTE format('INSERT INTO idempotency_keys (%s) SELECT %s FROM cidery_archive_0006.idempotency_keys',
                       column_list, select_list);
        GET DIAGNOSTICS restored = ROW_COUNT;
        DROP TABLE cidery_archive_0006.idempotency_keys;
        RAISE NOTICE 'restored % rows of idempotency_keys from cidery_archive_0006', restored;
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'cidery_archive_0006')
       AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n
                       ON n.oid = c.relnamespace WHERE n.nspname = 'cidery_archive_0006') THEN
        DROP SCHEMA cidery_archive_0006;
    END IF;
END
$$;

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Record the checksum of revision 0006's file (cidery.checksums: `cidery db check` verifies it)

CREATE TABLE IF NOT EXISTS alembic_version_checksums (
    revision text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alembic_version_checksums (revision, checksum) VALUES ('0006', '06baef0d4dd5fb9444b0b3e8789c9afeaa54c21f6f68c62331d499bd674b5f92') ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

COMMIT;

