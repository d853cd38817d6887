// The PostgreSQL schema: tables, the group role every chat account belongs to,
// and the row-level security that makes the server, not chatroom, the judge of
// who may write what. `chatroom setup` applies it, versioned, under a lock.

/** The schema version this program makes and reads. */
export const PG_SCHEMA_VERSION = 9;

/**
 * The group role every chat account of `database` is a member of: roles are
 * the whole server's, so each database's accounts carry its name.
 *
 * @example
 * ```ts
 * await groupRole("chat"); // "chatroom_chat"
 * ```
 */
export async function groupRole(database: string): Promise<string> {
  return `chatroom_${/^[a-z0-9_]{1,24}$/.test(database) ? database : await digest(database, 8)}`;
}

/**
 * The login role of the account whose name key is `key` in `database`:
 * `chatroom_chat/alice`, or a digest where that would pass PostgreSQL's 63 bytes.
 */
export async function accountRole(database: string, key: string): Promise<string> {
  const role = `${await groupRole(database)}/${key}`;
  return new TextEncoder().encode(role).length <= 63
    ? role
    : `${await groupRole(database)}/#${await digest(key, 16)}`;
}

async function digest(text: string, bytes: number): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].slice(0, bytes).map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** `name` as a quoted SQL identifier. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `text` as a quoted SQL string. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The channel new messages are announced on: `{"room":ID,"id":ID}`; and
 * `{"presence":true}` when someone arrives, moves or leaves. Anyone may
 * NOTIFY any channel: a notification is only ever a hint to look.
 */
export const CHANNEL = "chatroom";

/**
 * Migration `i` takes the schema from version `i` to `i + 1`; each runs in
 * the set-up's one transaction. The server checks what the client also
 * checks (text length and characters, the rate limits), so `psql` cannot get
 * around it; names' look-alike skeletons are computed by the client and kept
 * unique by the server.
 */
export const PG_MIGRATIONS: readonly ((group: string) => string)[] = [
  (group) => `
  CREATE SCHEMA chatroom;
  CREATE TABLE chatroom.schema_version (version integer NOT NULL);
  INSERT INTO chatroom.schema_version VALUES (0);

  CREATE TABLE chatroom.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 32),
    name_key text NOT NULL UNIQUE,
    skeleton text NOT NULL UNIQUE,
    role name NOT NULL UNIQUE,
    created_at bigint NOT NULL
  );
  CREATE TABLE chatroom.rooms (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 32),
    name_key text NOT NULL UNIQUE,
    skeleton text NOT NULL UNIQUE,
    created_by bigint NOT NULL REFERENCES chatroom.users (id),
    created_at bigint NOT NULL,
    last_sent_at bigint,
    -- What the server can check of the name rules (the look-alike skeleton is computed by
    -- chatroom): the key is the name in small letters, with no space or control character.
    CHECK (name_key = lower(name) AND name !~ '[\\s[:cntrl:]\\u0080-\\u009f]')
  );
  CREATE INDEX rooms_activity ON chatroom.rooms ((coalesce(last_sent_at, created_at)) DESC);
  CREATE SEQUENCE chatroom.message_ids;
  CREATE TABLE chatroom.messages (
    id bigint PRIMARY KEY,
    room_id bigint NOT NULL REFERENCES chatroom.rooms (id),
    user_id bigint NOT NULL REFERENCES chatroom.users (id),
    text text NOT NULL CHECK (
      char_length(text) BETWEEN 1 AND 4000
      AND text !~ '[\\x01-\\x08\\x0b-\\x1f\\x7f]'
      AND text ~ '[^\\s\\u00a0\\u1680\\u2000-\\u200b\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]'
    ),
    sent_at bigint NOT NULL
  );
  CREATE INDEX messages_room ON chatroom.messages (room_id, id);
  CREATE TABLE chatroom.settings (name text PRIMARY KEY, value double precision NOT NULL);
  CREATE TABLE chatroom.allowances (
    user_id bigint NOT NULL REFERENCES chatroom.users (id),
    kind text NOT NULL,
    tokens double precision NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (user_id, kind)
  );

  -- The account this connection logged in as.
  CREATE FUNCTION chatroom.me() RETURNS bigint LANGUAGE sql STABLE
    SET search_path = chatroom, pg_temp
    AS $$ SELECT id FROM chatroom.users WHERE role = current_user $$;

  CREATE FUNCTION chatroom.now_ms() RETURNS bigint LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

  -- Takes one token from the account's bucket, or fails with how long to wait.
  CREATE FUNCTION chatroom.spend(account bigint, what text) RETURNS void LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  DECLARE
    burst double precision := coalesce(
      (SELECT value FROM settings WHERE name = what || '_burst'),
      CASE what WHEN 'message' THEN 20 ELSE 10 END);
    rate double precision := coalesce(
      (SELECT value FROM settings WHERE name = what || 's_per_second'),
      CASE what WHEN 'message' THEN 5 ELSE 1.0 / 30 END);
    now bigint := now_ms();
    tokens double precision := burst;
    held allowances;
  BEGIN
    SELECT * INTO held FROM allowances WHERE user_id = account AND kind = what FOR UPDATE;
    IF FOUND AND held.updated_at <= now THEN
      tokens := least(burst, greatest(held.tokens, 0) + (now - held.updated_at) / 1000.0 * rate);
    END IF;
    IF tokens < 1 THEN
      RAISE EXCEPTION 'rate limit' USING ERRCODE = 'P0001',
        DETAIL = ceil((1 - tokens) / rate * 1000)::bigint::text, HINT = 'chatroom:' || what;
    END IF;
    INSERT INTO allowances VALUES (account, what, tokens - 1, now)
      ON CONFLICT (user_id, kind) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at;
  END $$;

  -- One writer per room at a time, numbered under the room's lock: ids commit in
  -- order within a room, so a reader that follows id > last seen misses nothing.
  CREATE FUNCTION chatroom.before_message() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.messages'::regclass THEN
      RAISE EXCEPTION 'before_message() is for chatroom.messages only';
    END IF;
    PERFORM spend(NEW.user_id, 'message');
    PERFORM 1 FROM rooms WHERE id = NEW.room_id FOR UPDATE;
    NEW.id := nextval('message_ids');
    NEW.sent_at := now_ms();
    UPDATE rooms SET last_sent_at = NEW.sent_at WHERE id = NEW.room_id;
    PERFORM pg_notify('${CHANNEL}', json_build_object('room', NEW.room_id, 'id', NEW.id)::text);
    RETURN NEW;
  END $$;
  CREATE TRIGGER before_message BEFORE INSERT ON chatroom.messages
    FOR EACH ROW EXECUTE FUNCTION chatroom.before_message();

  CREATE FUNCTION chatroom.before_room() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.rooms'::regclass THEN
      RAISE EXCEPTION 'before_room() is for chatroom.rooms only';
    END IF;
    PERFORM spend(NEW.created_by, 'room');
    NEW.created_at := now_ms();
    NEW.last_sent_at := NULL;
    RETURN NEW;
  END $$;
  CREATE TRIGGER before_room BEFORE INSERT ON chatroom.rooms
    FOR EACH ROW EXECUTE FUNCTION chatroom.before_room();

  -- Accounts are made by the database's owner: a login role in the group, and its row.
  CREATE FUNCTION chatroom.create_account(
    account name, verifier text, shown text, key text, look text
  ) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  DECLARE made bigint;
  BEGIN
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L CONNECTION LIMIT 20 IN ROLE %I',
      account, verifier, ${literal(group)});
    INSERT INTO users (name, name_key, skeleton, role, created_at)
      VALUES (shown, key, look, account, now_ms()) RETURNING id INTO made;
    RETURN made;
  END $$;
  -- Functions run by anyone by default: these only through the triggers and the owner.
  REVOKE ALL ON FUNCTION chatroom.create_account(name, text, text, text, text) FROM PUBLIC;
  REVOKE ALL ON FUNCTION chatroom.spend(bigint, text) FROM PUBLIC;
  -- A trigger fires without EXECUTE; with it, anyone could hang a definer function on a
  -- table of their own and run it, as the owner, on rows they choose.
  REVOKE ALL ON FUNCTION chatroom.before_message(), chatroom.before_room() FROM PUBLIC;

  DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(group)}) THEN
      CREATE ROLE ${ident(group)} NOLOGIN;
    END IF;
  END $$;
  REVOKE ALL ON SCHEMA chatroom FROM PUBLIC;
  GRANT USAGE ON SCHEMA chatroom TO ${ident(group)};
  GRANT SELECT ON chatroom.schema_version, chatroom.users, chatroom.rooms, chatroom.messages,
    chatroom.settings TO ${ident(group)};
  GRANT INSERT (name, name_key, skeleton, created_by) ON chatroom.rooms TO ${ident(group)};
  GRANT INSERT (room_id, user_id, text) ON chatroom.messages TO ${ident(group)};
  GRANT EXECUTE ON FUNCTION chatroom.me(), chatroom.now_ms() TO ${ident(group)};

  -- The server refuses a row written in another account's name.
  ALTER TABLE chatroom.rooms ENABLE ROW LEVEL SECURITY;
  ALTER TABLE chatroom.messages ENABLE ROW LEVEL SECURITY;
  CREATE POLICY rooms_read ON chatroom.rooms FOR SELECT TO ${ident(group)} USING (true);
  CREATE POLICY rooms_own ON chatroom.rooms FOR INSERT TO ${ident(group)}
    WITH CHECK (created_by = chatroom.me());
  CREATE POLICY messages_read ON chatroom.messages FOR SELECT TO ${ident(group)} USING (true);
  CREATE POLICY messages_own ON chatroom.messages FOR INSERT TO ${ident(group)}
    WITH CHECK (user_id = chatroom.me());
  `,
  // 2: the same rules in fewer statements per message (the bench's throughput is CPU-bound):
  // settings read once, the allowance spent in one upsert, the room locked by its update.
  () => `
  CREATE OR REPLACE FUNCTION chatroom.spend(account bigint, what text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  DECLARE
    burst double precision;
    rate double precision;
    now bigint := now_ms();
    left_over double precision;
  BEGIN
    SELECT max(value) FILTER (WHERE name = what || '_burst'),
        max(value) FILTER (WHERE name = what || 's_per_second')
      INTO burst, rate FROM settings WHERE name IN (what || '_burst', what || 's_per_second');
    burst := coalesce(burst, CASE what WHEN 'message' THEN 20 ELSE 10 END);
    rate := coalesce(rate, CASE what WHEN 'message' THEN 5 ELSE 1.0 / 30 END);
    -- A refusal raises, which undoes this upsert with the rest of the statement.
    INSERT INTO allowances AS held VALUES (account, what, burst - 1, now)
      ON CONFLICT (user_id, kind) DO UPDATE SET updated_at = now, tokens = CASE
        WHEN held.updated_at <= now
          THEN least(burst, greatest(held.tokens, 0) + (now - held.updated_at) / 1000.0 * rate)
        ELSE burst END - 1
      RETURNING tokens INTO left_over;
    IF left_over < 0 THEN
      RAISE EXCEPTION 'rate limit' USING ERRCODE = 'P0001',
        DETAIL = ceil(-left_over / rate * 1000)::bigint::text, HINT = 'chatroom:' || what;
    END IF;
  END $$;

  CREATE OR REPLACE FUNCTION chatroom.before_message() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.messages'::regclass THEN
      RAISE EXCEPTION 'before_message() is for chatroom.messages only';
    END IF;
    PERFORM spend(NEW.user_id, 'message');
    -- The update holds the room's row lock to the commit: one writer per room at a time.
    UPDATE rooms SET last_sent_at = now_ms() WHERE id = NEW.room_id
      RETURNING last_sent_at INTO NEW.sent_at;
    NEW.id := nextval('message_ids');
    PERFORM pg_notify('${CHANNEL}', json_build_object('room', NEW.room_id, 'id', NEW.id)::text);
    RETURN NEW;
  END $$;
  `,
  // 3: /me and /topic lines, topics, direct conversations (a room of two, dm_a < dm_b, that
  // only they can see or write), who is here, read markers, mentions, the bell, full-text search.
  (group) => `
  ALTER TABLE chatroom.messages ADD COLUMN kind text NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'me', 'topic'));
  ALTER TABLE chatroom.rooms ADD COLUMN topic text
    CHECK (char_length(topic) <= 300 AND topic !~ '[\\n\\r]');
  ALTER TABLE chatroom.rooms ADD COLUMN dm_a bigint REFERENCES chatroom.users (id);
  ALTER TABLE chatroom.rooms ADD COLUMN dm_b bigint REFERENCES chatroom.users (id);
  -- A room's name has no "@"; a conversation's is "@A+B", so neither can take the other's.
  ALTER TABLE chatroom.rooms ADD CHECK (
    (dm_a IS NULL AND dm_b IS NULL AND name !~ '@')
    OR (dm_a < dm_b AND name = '@' || dm_a || '+' || dm_b)) NOT VALID; -- rows before it stand
  CREATE INDEX rooms_dm_a ON chatroom.rooms (dm_a) WHERE dm_a IS NOT NULL;
  CREATE INDEX rooms_dm_b ON chatroom.rooms (dm_b) WHERE dm_b IS NOT NULL;
  CREATE INDEX messages_search ON chatroom.messages USING gin (to_tsvector('simple', text));

  CREATE TABLE chatroom.presence (
    client text PRIMARY KEY CHECK (char_length(client) <= 64),
    user_id bigint NOT NULL REFERENCES chatroom.users (id),
    room_id bigint REFERENCES chatroom.rooms (id),
    seen_at bigint NOT NULL DEFAULT 0
  );
  CREATE TABLE chatroom.read_markers (
    user_id bigint NOT NULL REFERENCES chatroom.users (id),
    room_id bigint NOT NULL REFERENCES chatroom.rooms (id),
    last_read bigint NOT NULL,
    PRIMARY KEY (user_id, room_id)
  );
  CREATE TABLE chatroom.mentions (
    user_id bigint NOT NULL REFERENCES chatroom.users (id),
    room_id bigint NOT NULL REFERENCES chatroom.rooms (id),
    message_id bigint NOT NULL REFERENCES chatroom.messages (id),
    PRIMARY KEY (user_id, room_id, message_id)
  );
  CREATE TABLE chatroom.preferences (
    user_id bigint PRIMARY KEY REFERENCES chatroom.users (id),
    bell boolean NOT NULL
  );

  -- A topic line sets the room's topic, under the room's lock like any message.
  CREATE OR REPLACE FUNCTION chatroom.before_message() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.messages'::regclass THEN
      RAISE EXCEPTION 'before_message() is for chatroom.messages only';
    END IF;
    PERFORM spend(NEW.user_id, 'message');
    -- The update holds the room's row lock to the commit: one writer per room at a time.
    UPDATE rooms SET last_sent_at = now_ms(),
        topic = CASE WHEN NEW.kind = 'topic' THEN NEW.text ELSE topic END
      WHERE id = NEW.room_id
      RETURNING last_sent_at INTO NEW.sent_at;
    NEW.id := nextval('message_ids');
    PERFORM pg_notify('${CHANNEL}', json_build_object('room', NEW.room_id, 'id', NEW.id)::text);
    RETURN NEW;
  END $$;

  -- Heartbeats carry the server's time; arriving, moving and leaving are announced.
  CREATE FUNCTION chatroom.on_presence() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.presence'::regclass THEN
      RAISE EXCEPTION 'on_presence() is for chatroom.presence only';
    END IF;
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('${CHANNEL}', '{"presence":true}');
      RETURN OLD;
    END IF;
    NEW.seen_at := now_ms();
    IF TG_OP = 'INSERT' OR OLD.room_id IS DISTINCT FROM NEW.room_id THEN
      PERFORM pg_notify('${CHANNEL}', '{"presence":true}');
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER on_presence BEFORE INSERT OR UPDATE OR DELETE ON chatroom.presence
    FOR EACH ROW EXECUTE FUNCTION chatroom.on_presence();
  REVOKE ALL ON FUNCTION chatroom.on_presence() FROM PUBLIC;

  GRANT INSERT (kind) ON chatroom.messages TO ${ident(group)};
  GRANT INSERT (dm_a, dm_b) ON chatroom.rooms TO ${ident(group)};
  GRANT SELECT, INSERT, UPDATE (room_id, seen_at), DELETE ON chatroom.presence TO ${ident(group)};
  GRANT SELECT, INSERT, UPDATE (last_read) ON chatroom.read_markers TO ${ident(group)};
  GRANT SELECT, INSERT ON chatroom.mentions TO ${ident(group)};
  GRANT SELECT, INSERT, UPDATE (bell) ON chatroom.preferences TO ${ident(group)};

  -- A direct conversation is seen and written by its two members only.
  DROP POLICY rooms_read ON chatroom.rooms;
  DROP POLICY rooms_own ON chatroom.rooms;
  DROP POLICY messages_read ON chatroom.messages;
  DROP POLICY messages_own ON chatroom.messages;
  CREATE POLICY rooms_read ON chatroom.rooms FOR SELECT TO ${ident(group)}
    USING (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b));
  CREATE POLICY rooms_own ON chatroom.rooms FOR INSERT TO ${ident(group)}
    WITH CHECK (created_by = chatroom.me() AND (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b)));
  -- The subqueries see rooms through rooms_read: a conversation of others is not there.
  CREATE POLICY messages_read ON chatroom.messages FOR SELECT TO ${ident(group)}
    USING (EXISTS (SELECT 1 FROM chatroom.rooms r WHERE r.id = room_id));
  CREATE POLICY messages_own ON chatroom.messages FOR INSERT TO ${ident(group)}
    WITH CHECK (user_id = chatroom.me()
      AND EXISTS (SELECT 1 FROM chatroom.rooms r WHERE r.id = room_id));

  ALTER TABLE chatroom.presence ENABLE ROW LEVEL SECURITY;
  ALTER TABLE chatroom.read_markers ENABLE ROW LEVEL SECURITY;
  ALTER TABLE chatroom.mentions ENABLE ROW LEVEL SECURITY;
  ALTER TABLE chatroom.preferences ENABLE ROW LEVEL SECURITY;
  CREATE POLICY presence_read ON chatroom.presence FOR SELECT TO ${ident(group)}
    USING (room_id IS NULL OR EXISTS (SELECT 1 FROM chatroom.rooms r WHERE r.id = room_id));
  CREATE POLICY presence_own ON chatroom.presence FOR ALL TO ${ident(group)}
    USING (user_id = chatroom.me())
    WITH CHECK (user_id = chatroom.me()
      AND (room_id IS NULL OR EXISTS (SELECT 1 FROM chatroom.rooms r WHERE r.id = room_id)));
  CREATE POLICY read_markers_own ON chatroom.read_markers FOR ALL TO ${ident(group)}
    USING (user_id = chatroom.me()) WITH CHECK (user_id = chatroom.me());
  CREATE POLICY preferences_own ON chatroom.preferences FOR ALL TO ${ident(group)}
    USING (user_id = chatroom.me()) WITH CHECK (user_id = chatroom.me());
  -- You see the mentions of you; you may note mentions only in a message of your own.
  CREATE POLICY mentions_read ON chatroom.mentions FOR SELECT TO ${ident(group)}
    USING (user_id = chatroom.me());
  CREATE POLICY mentions_own ON chatroom.mentions FOR INSERT TO ${ident(group)}
    WITH CHECK (EXISTS (SELECT 1 FROM chatroom.messages m WHERE m.id = message_id
      AND m.room_id = mentions.room_id AND m.user_id = chatroom.me()));
  `,
  // 4: search through a function. Under row-level security the server will not use the
  // full-text index for a member's query (its match operator is not leakproof) and reads
  // every message; this one reads as the owner and applies the same rule for conversations.
  (group) => `
  CREATE FUNCTION chatroom.search(words text, in_room bigint, wanted integer)
    RETURNS SETOF bigint LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = chatroom, pg_temp AS $$
  DECLARE
    -- The login role: in a definer function current_user is the owner. Null for the owner.
    viewer bigint := (SELECT id FROM users WHERE role = session_user);
    query tsquery := plainto_tsquery('simple', words);
    found bigint[];
  BEGIN
    wanted := least(greatest(wanted, 0), 100);
    -- Words in many messages: the newest few thousand hold enough, read newest first.
    IF in_room IS NULL THEN
      found := ARRAY(SELECT m.id
        FROM (SELECT id FROM messages ORDER BY id DESC LIMIT 5000) recent
        JOIN messages m ON m.id = recent.id JOIN rooms r ON r.id = m.room_id
        WHERE to_tsvector('simple', m.text) @@ query
          AND (r.dm_a IS NULL OR viewer IN (r.dm_a, r.dm_b))
        ORDER BY m.id DESC LIMIT wanted);
    ELSE
      found := ARRAY(SELECT m.id
        FROM (SELECT id FROM messages WHERE room_id = in_room ORDER BY id DESC LIMIT 5000) recent
        JOIN messages m ON m.id = recent.id JOIN rooms r ON r.id = m.room_id
        WHERE to_tsvector('simple', m.text) @@ query
          AND (r.dm_a IS NULL OR viewer IN (r.dm_a, r.dm_b))
        ORDER BY m.id DESC LIMIT wanted);
    END IF;
    -- Fewer there: a rare word, which the index finds wherever it is (+ 0: not by walking
    -- back through every id).
    IF cardinality(found) < wanted THEN
      found := ARRAY(SELECT m.id FROM messages m JOIN rooms r ON r.id = m.room_id
        WHERE to_tsvector('simple', m.text) @@ query
          AND (in_room IS NULL OR m.room_id = in_room)
          AND (r.dm_a IS NULL OR viewer IN (r.dm_a, r.dm_b))
        ORDER BY m.id + 0 DESC LIMIT wanted);
    END IF;
    RETURN QUERY SELECT unnest(found);
  END $$;
  REVOKE ALL ON FUNCTION chatroom.search(text, bigint, integer) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION chatroom.search(text, bigint, integer) TO ${ident(group)};
  `,
  // 5: read policies that are a plain look at the row itself. A policy with a subquery runs
  // it only for rows that pass a member's own (leakproof) conditions, and EXPLAIN ANALYZE
  // shows whether it ran: a member could read a conversation of others a character at a
  // time. So each message and presence row carries its conversation's two members, copied
  // from the room by the server; and a room name's skeleton may not take a conversation's.
  (group) => `
  ALTER TABLE chatroom.messages ADD COLUMN dm_a bigint, ADD COLUMN dm_b bigint;
  UPDATE chatroom.messages m SET dm_a = r.dm_a, dm_b = r.dm_b
    FROM chatroom.rooms r WHERE r.id = m.room_id AND r.dm_a IS NOT NULL;
  ALTER TABLE chatroom.presence ADD COLUMN dm_a bigint, ADD COLUMN dm_b bigint;
  UPDATE chatroom.presence p SET dm_a = r.dm_a, dm_b = r.dm_b
    FROM chatroom.rooms r WHERE r.id = p.room_id AND r.dm_a IS NOT NULL;
  ALTER TABLE chatroom.rooms ADD CHECK ((dm_a IS NULL AND skeleton !~ '@')
    OR (dm_a IS NOT NULL AND skeleton = name AND name_key = name)) NOT VALID;

  CREATE OR REPLACE FUNCTION chatroom.before_message() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  DECLARE
    room rooms;
  BEGIN
    IF TG_RELID <> 'chatroom.messages'::regclass THEN
      RAISE EXCEPTION 'before_message() is for chatroom.messages only';
    END IF;
    -- Before anything that could fail with the room's row in its detail.
    SELECT * INTO room FROM rooms WHERE id = NEW.room_id;
    IF NOT FOUND OR (room.dm_a IS NOT NULL AND NEW.user_id NOT IN (room.dm_a, room.dm_b)) THEN
      RAISE EXCEPTION 'no such room' USING ERRCODE = '42501';
    END IF;
    IF NEW.kind = 'topic' AND (char_length(NEW.text) > 300 OR NEW.text ~ '[\\n\\r]') THEN
      RAISE EXCEPTION 'a topic is one line of at most 300 characters' USING ERRCODE = '23514';
    END IF;
    NEW.dm_a := room.dm_a;
    NEW.dm_b := room.dm_b;
    PERFORM spend(NEW.user_id, 'message');
    -- The update holds the room's row lock to the commit: one writer per room at a time.
    UPDATE rooms SET last_sent_at = now_ms(),
        topic = CASE WHEN NEW.kind = 'topic' THEN NEW.text ELSE topic END
      WHERE id = NEW.room_id
      RETURNING last_sent_at INTO NEW.sent_at;
    NEW.id := nextval('message_ids');
    PERFORM pg_notify('${CHANNEL}', json_build_object('room', NEW.room_id, 'id', NEW.id)::text);
    RETURN NEW;
  END $$;

  CREATE OR REPLACE FUNCTION chatroom.on_presence() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.presence'::regclass THEN
      RAISE EXCEPTION 'on_presence() is for chatroom.presence only';
    END IF;
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('${CHANNEL}', '{"presence":true}');
      RETURN OLD;
    END IF;
    SELECT dm_a, dm_b INTO NEW.dm_a, NEW.dm_b FROM rooms WHERE id = NEW.room_id;
    IF NEW.dm_a IS NOT NULL AND NEW.user_id NOT IN (NEW.dm_a, NEW.dm_b) THEN
      RAISE EXCEPTION 'no such room' USING ERRCODE = '42501';
    END IF;
    NEW.seen_at := now_ms();
    IF TG_OP = 'INSERT' OR OLD.room_id IS DISTINCT FROM NEW.room_id THEN
      PERFORM pg_notify('${CHANNEL}', '{"presence":true}');
    END IF;
    RETURN NEW;
  END $$;

  DROP POLICY messages_read ON chatroom.messages;
  DROP POLICY messages_own ON chatroom.messages;
  DROP POLICY presence_read ON chatroom.presence;
  DROP POLICY presence_own ON chatroom.presence;
  CREATE POLICY messages_read ON chatroom.messages FOR SELECT TO ${ident(group)}
    USING (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b));
  CREATE POLICY messages_own ON chatroom.messages FOR INSERT TO ${ident(group)}
    WITH CHECK (user_id = chatroom.me() AND (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b)));
  CREATE POLICY presence_read ON chatroom.presence FOR SELECT TO ${ident(group)}
    USING (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b));
  CREATE POLICY presence_own ON chatroom.presence FOR ALL TO ${ident(group)}
    USING (user_id = chatroom.me())
    WITH CHECK (user_id = chatroom.me() AND (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b)));
  `,
  // 6: no planner statistics of what a member may not read. ANALYZE samples every row, and
  // EXPLAIN's estimates come from those samples whoever asks: with the search index's most
  // common words, an attack read every word of a conversation of others through plain
  // EXPLAIN. So no statistics are kept of texts, names, topics or who is in a conversation;
  // a change of type drops the ones already taken (it may not touch a column a policy
  // names, hence the policies' round trip).
  (group) => `
  DROP POLICY messages_read ON chatroom.messages;
  DROP POLICY messages_own ON chatroom.messages;
  DROP POLICY rooms_read ON chatroom.rooms;
  DROP POLICY rooms_own ON chatroom.rooms;
  DROP POLICY presence_read ON chatroom.presence;
  DROP POLICY presence_own ON chatroom.presence;
  DROP POLICY mentions_own ON chatroom.mentions;
  DO $$
  DECLARE
    hidden text[][] := ARRAY[
      ['messages', 'text', 'text'], ['messages', 'dm_a', 'bigint'], ['messages', 'dm_b', 'bigint'],
      ['rooms', 'name', 'text'], ['rooms', 'name_key', 'text'], ['rooms', 'skeleton', 'text'],
      ['rooms', 'topic', 'text'], ['rooms', 'dm_a', 'bigint'], ['rooms', 'dm_b', 'bigint'],
      ['presence', 'dm_a', 'bigint'], ['presence', 'dm_b', 'bigint'],
      ['mentions', 'room_id', 'bigint'], ['read_markers', 'room_id', 'bigint']];
    i integer;
  BEGIN
    FOR i IN 1 .. array_length(hidden, 1) LOOP
      EXECUTE format('ALTER TABLE chatroom.%I ALTER COLUMN %I TYPE %s USING %I',
        hidden[i][1], hidden[i][2], hidden[i][3], hidden[i][2]);
      EXECUTE format('ALTER TABLE chatroom.%I ALTER COLUMN %I SET STATISTICS 0',
        hidden[i][1], hidden[i][2]);
    END LOOP;
  END $$;
  ALTER INDEX chatroom.messages_search ALTER COLUMN 1 SET STATISTICS 0;
  CREATE POLICY rooms_read ON chatroom.rooms FOR SELECT TO ${ident(group)}
    USING (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b));
  CREATE POLICY rooms_own ON chatroom.rooms FOR INSERT TO ${ident(group)}
    WITH CHECK (created_by = chatroom.me() AND (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b)));
  CREATE POLICY messages_read ON chatroom.messages FOR SELECT TO ${ident(group)}
    USING (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b));
  CREATE POLICY messages_own ON chatroom.messages FOR INSERT TO ${ident(group)}
    WITH CHECK (user_id = chatroom.me() AND (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b)));
  CREATE POLICY presence_read ON chatroom.presence FOR SELECT TO ${ident(group)}
    USING (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b));
  CREATE POLICY presence_own ON chatroom.presence FOR ALL TO ${ident(group)}
    USING (user_id = chatroom.me())
    WITH CHECK (user_id = chatroom.me() AND (dm_a IS NULL OR chatroom.me() IN (dm_a, dm_b)));

  -- A mention is noted only where the message names that person (as '@' and their key) and
  -- they can read it: a member cannot make another's client say "naming you" falsely.
  CREATE POLICY mentions_own ON chatroom.mentions FOR INSERT TO ${ident(group)}
    WITH CHECK (EXISTS (SELECT 1 FROM chatroom.messages m JOIN chatroom.users u
      ON u.id = mentions.user_id
      WHERE m.id = message_id AND m.room_id = mentions.room_id AND m.user_id = chatroom.me()
        AND strpos(lower(m.text), '@' || u.name_key) > 0
        AND (m.dm_a IS NULL OR u.id IN (m.dm_a, m.dm_b))));
  -- No room name that looks like a conversation's: "@" in any of its widths.
  ALTER TABLE chatroom.rooms ADD CHECK (dm_a IS NOT NULL OR name !~ '[@\uFF20\uFE6B]') NOT VALID;
  `,
  // 7: a search never touches a message its reader may not see. The full-text index held
  // every message, and the definer function dropped others' conversations after the index
  // found them: the time each took told a member whether a guessed word was in one. Now the
  // index holds rooms' messages only, and one's own conversations are read through their
  // members' columns (schema 8's search function). And no room name may hold an invisible
  // character.
  () => `
  DROP INDEX chatroom.messages_search;
  CREATE INDEX messages_search ON chatroom.messages USING gin (to_tsvector('simple', text))
    WHERE dm_a IS NULL;
  ALTER INDEX chatroom.messages_search ALTER COLUMN 1 SET STATISTICS 0;
  CREATE INDEX messages_dm_a ON chatroom.messages (dm_a, id) WHERE dm_a IS NOT NULL;
  CREATE INDEX messages_dm_b ON chatroom.messages (dm_b, id) WHERE dm_b IS NOT NULL;
  ALTER TABLE chatroom.rooms ADD CHECK (name !~
    '[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]') NOT VALID;

  -- The search function that reads through these is schema 8's (it replaced this one's).
  `,
  // 8: search's first look, for words in many messages, walks back from the newest message by
  // the room's index and stops at the last it needs (at most 500 back): it computed the words of
  // 5,000 messages before, some 200 ms at a million.
  () => `
  CREATE OR REPLACE FUNCTION chatroom.search(words text, in_room bigint, wanted integer)
    RETURNS SETOF bigint LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = chatroom, pg_temp AS $$
  DECLARE
    -- The login role: in a definer function current_user is the owner. Null for the owner.
    viewer bigint := (SELECT id FROM users WHERE role = session_user);
    query tsquery := plainto_tsquery('simple', words);
    room rooms;
    since bigint;
    hits bigint[];
  BEGIN
    wanted := least(greatest(wanted, 0), 100);
    IF in_room IS NOT NULL THEN
      SELECT * INTO room FROM rooms WHERE id = in_room;
      -- Another's conversation, or no room: nothing, before anything is read.
      IF NOT FOUND OR (room.dm_a IS NOT NULL AND viewer IS DISTINCT FROM room.dm_a
          AND viewer IS DISTINCT FROM room.dm_b) THEN
        RETURN;
      END IF;
      since := (SELECT min(id) FROM (SELECT id FROM messages WHERE room_id = in_room
        ORDER BY id DESC LIMIT 500) recent);
      hits := ARRAY(SELECT m.id FROM messages m
        WHERE m.room_id = in_room AND m.id >= since AND to_tsvector('simple', m.text) @@ query
        ORDER BY m.id DESC LIMIT wanted);
      IF cardinality(hits) < wanted THEN
        IF room.dm_a IS NULL THEN -- a rare word: the index finds each (+ 0: not by walking ids)
          hits := ARRAY(SELECT m.id FROM messages m
            WHERE m.dm_a IS NULL AND m.room_id = in_room
              AND to_tsvector('simple', m.text) @@ query
            ORDER BY m.id + 0 DESC LIMIT wanted);
        ELSE -- one's own conversation: all of it, by its own index
          hits := ARRAY(SELECT m.id FROM messages m
            WHERE m.room_id = in_room AND to_tsvector('simple', m.text) @@ query
            ORDER BY m.id DESC LIMIT wanted);
        END IF;
      END IF;
      RETURN QUERY SELECT unnest(hits);
      RETURN;
    END IF;
    -- Every room: the newest rooms' messages (a conversation's are passed over by their
    -- members' columns, never matched), then the index of rooms' messages for a rare word.
    since := (SELECT min(id) FROM (SELECT id FROM messages WHERE dm_a IS NULL
      ORDER BY id DESC LIMIT 500) recent);
    hits := ARRAY(SELECT m.id FROM messages m
      WHERE m.dm_a IS NULL AND m.id >= since AND to_tsvector('simple', m.text) @@ query
      ORDER BY m.id DESC LIMIT wanted);
    IF cardinality(hits) < wanted THEN
      hits := ARRAY(SELECT m.id FROM messages m
        WHERE m.dm_a IS NULL AND to_tsvector('simple', m.text) @@ query
        ORDER BY m.id + 0 DESC LIMIT wanted);
    END IF;
    -- And the reader's own conversations, through their members' columns.
    IF viewer IS NOT NULL THEN
      hits := ARRAY(SELECT id FROM (
        SELECT unnest(hits) AS id
        UNION ALL
        SELECT m.id FROM messages m WHERE m.dm_a = viewer
          AND to_tsvector('simple', m.text) @@ query
        UNION ALL
        SELECT m.id FROM messages m WHERE m.dm_b = viewer
          AND to_tsvector('simple', m.text) @@ query
      ) ids ORDER BY id DESC LIMIT wanted);
    END IF;
    RETURN QUERY SELECT unnest(hits);
  END $$;
  `,
  // 9: presence rows of terminals that never said goodbye (a crash, a kill) go after 10 minutes,
  // and one account keeps at most 20: a member's psql cannot fill the table.
  () => `
  CREATE OR REPLACE FUNCTION chatroom.on_presence() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = chatroom, pg_temp AS $$
  BEGIN
    IF TG_RELID <> 'chatroom.presence'::regclass THEN
      RAISE EXCEPTION 'on_presence() is for chatroom.presence only';
    END IF;
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('${CHANNEL}', '{"presence":true}');
      RETURN OLD;
    END IF;
    SELECT dm_a, dm_b INTO NEW.dm_a, NEW.dm_b FROM rooms WHERE id = NEW.room_id;
    IF NEW.dm_a IS NOT NULL AND NEW.user_id NOT IN (NEW.dm_a, NEW.dm_b) THEN
      RAISE EXCEPTION 'no such room' USING ERRCODE = '42501';
    END IF;
    NEW.seen_at := now_ms();
    IF TG_OP = 'INSERT' THEN
      DELETE FROM presence WHERE seen_at < NEW.seen_at - 600000;
      IF (SELECT count(*) FROM presence WHERE user_id = NEW.user_id) >= 20 THEN
        RAISE EXCEPTION 'too many terminals of one account' USING ERRCODE = '54000';
      END IF;
    END IF;
    IF TG_OP = 'INSERT' OR OLD.room_id IS DISTINCT FROM NEW.room_id THEN
      PERFORM pg_notify('${CHANNEL}', '{"presence":true}');
    END IF;
    RETURN NEW;
  END $$;
  `,
];
