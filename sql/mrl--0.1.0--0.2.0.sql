-- mrl 0.1.0 -> 0.2.0: what changed in the SQL objects (CHANGELOG.md).

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mrl UPDATE TO '0.2.0'" to load this file. \quit

-- Only the registry row that mrl_train created owns (and may remove) its
-- directory; rows registered before 0.2.0 own nothing.
ALTER TABLE mrl_models ADD COLUMN owns_files boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX mrl_models_owned_path ON mrl_models (path) WHERE owns_files;
