-- The schema Tainik's database had at version 4 (made by open_database of that release, then
-- dumped with sqlite3 .dump): the starting point of the upgrade tests with data.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO meta VALUES('schema_version','4');
CREATE TABLE sources (
	id INTEGER NOT NULL, 
	lookup BLOB NOT NULL, 
	reply_recipient TEXT NOT NULL, 
	designation VARCHAR(120) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_activity DATETIME NOT NULL, 
	starred BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (lookup)
);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	password_hash TEXT NOT NULL, 
	totp_secret VARCHAR(64) NOT NULL, 
	is_admin BOOLEAN NOT NULL, 
	active BOOLEAN NOT NULL, 
	must_change_password BOOLEAN NOT NULL, 
	password_changed_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_login_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE login_failures (
	id INTEGER NOT NULL, 
	account VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE submissions (
	id INTEGER NOT NULL, 
	source_id INTEGER NOT NULL, 
	sealed_id VARCHAR(26) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	ciphertext_bytes INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE, 
	UNIQUE (sealed_id)
);
CREATE TABLE replies (
	id INTEGER NOT NULL, 
	source_id INTEGER NOT NULL, 
	sealed_id VARCHAR(26) NOT NULL, 
	created_at DATETIME NOT NULL, 
	seen_by_source BOOLEAN DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE, 
	UNIQUE (sealed_id)
);
CREATE TABLE source_sessions (
	token_hash BLOB NOT NULL, 
	source_id INTEGER NOT NULL, 
	sealed_reply_identity BLOB NOT NULL, 
	last_seen DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE
);
CREATE TABLE uploads (
	sealed_id VARCHAR(26) NOT NULL, 
	source_id INTEGER NOT NULL, 
	segments INTEGER NOT NULL, 
	sealed_note BLOB NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (sealed_id), 
	FOREIGN KEY(source_id) REFERENCES sources (id) ON DELETE CASCADE
);
CREATE TABLE staff_sessions (
	token_hash BLOB NOT NULL, 
	user_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE api_tokens (
	token_hash BLOB NOT NULL, 
	user_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	scope VARCHAR(8) DEFAULT 'read' NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE totp_used (
	user_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	used_at DATETIME NOT NULL, 
	PRIMARY KEY (user_id, step), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor_id INTEGER, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	object_kind VARCHAR(20), 
	object_ref VARCHAR(64), 
	detail VARCHAR(500), 
	PRIMARY KEY (id), 
	FOREIGN KEY(actor_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE TABLE read_marks (
	user_id INTEGER NOT NULL, 
	sealed_id VARCHAR(26) NOT NULL, 
	read_at DATETIME NOT NULL, 
	PRIMARY KEY (user_id, sealed_id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE reply_authors (
	sealed_id VARCHAR(26) NOT NULL, 
	user_id INTEGER, 
	PRIMARY KEY (sealed_id), 
	FOREIGN KEY(sealed_id) REFERENCES replies (sealed_id) ON DELETE CASCADE, 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX sources_by_activity ON sources (last_activity, id);
CREATE INDEX sources_starred_by_activity ON sources (starred, last_activity, id);
CREATE INDEX login_failures_by_account ON login_failures (account, at);
CREATE INDEX submissions_by_time ON submissions (created_at, id);
CREATE INDEX submissions_sealed_by_source ON submissions (source_id, sealed_id);
CREATE INDEX submissions_by_source ON submissions (source_id, id);
CREATE INDEX replies_by_time ON replies (created_at, id);
CREATE INDEX replies_sealed_by_source ON replies (source_id, sealed_id);
CREATE INDEX replies_by_source ON replies (source_id, id);
CREATE INDEX uploads_by_source ON uploads (source_id);
CREATE INDEX uploads_by_age ON uploads (updated_at);
CREATE INDEX staff_sessions_by_user ON staff_sessions (user_id);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
COMMIT;
