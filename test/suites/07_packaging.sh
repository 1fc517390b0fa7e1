#!/usr/bin/env bash
# 07_packaging.sh: META.json (PGXN) stays valid and agrees with mrl.control.
# The control file is the one source of the version and the description;
# PGXN needs them literally in META.json, so any drift fails here.  Needs no
# cluster.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

if out=$(python3 -m json.tool META.json 2>&1 >/dev/null); then
	ok "META.json is valid JSON (python3 -m json.tool)"
else
	notok "META.json is not valid JSON: $out"
	exit 1
fi
# meta FIELD...: the value at that path of META.json, or "(missing)"
meta()
{
	python3 -c 'import json, sys
v = json.load(open("META.json"))
for key in sys.argv[1:]:
    v = v.get(key, "(missing)") if isinstance(v, dict) else "(missing)"
print(v)' "$@"
}
control() { sed -n "s/^$1 *= *'\(.*\)'/\1/p" mrl.control; }

version=$(control default_version)
comment=$(control comment)
check "META.json version equals mrl.control's default_version" "$(meta version)" "$version"
check "META.json provides mrl at that version" "$(meta provides mrl version)" "$version"
check "META.json abstract equals mrl.control's comment" "$(meta abstract)" "$comment"
check "META.json provides mrl with the same abstract" "$(meta provides mrl abstract)" "$comment"
check "META.json names the extension of the control file" "$(meta name)" "$(basename ./*.control .control)"
check "META.json license is the PostgreSQL License" "$(meta license)" "postgresql"
check "LICENSE holds the PostgreSQL License" "$(head -n 1 LICENSE)" "PostgreSQL License"
check "META.json follows PGXN meta-spec 1.0.0" "$(meta meta-spec version)" "1.0.0"
