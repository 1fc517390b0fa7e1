#!/usr/bin/env bash
# 08_debian.sh: the Debian package postgresql-15-mrl (debian/), built the way
# Debian builds PostgreSQL extensions (dpkg-buildpackage, pg_buildext), then
# installed into a private copy of PostgreSQL and tested there: every file
# lands where that copy's pg_config says, the server loads the package's
# library, and pg_regress (make installcheck) passes against it.
#
# Why a private copy: dpkg -i would replace the system's
# /usr/lib/postgresql/15/lib/mrl.so, which other clusters on the machine use
# (and register the package system-wide), and dpkg --root needs a whole dpkg
# database in that root.  So the package is extracted (dpkg-deb -x) into a
# copy of the server it was built for, /usr/lib/postgresql/N and
# /usr/share/postgresql/N without any mrl file.  PostgreSQL's programs find
# their libraries and share directory relative to their own location, so
# the copy's pg_config names the copy's directories and its server loads
# only the package's files.  The suite needs no other cluster.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

# The package is built for Debian's PostgreSQL (debian/pgversions), whatever
# PG_CONFIG names: a run of the suite against another major (a server built
# from source) has nothing of its own to test here.
pgver=$(sed -n '/^[0-9]/p' debian/pgversions | tail -n 1)
major=$("$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
if [ "$major" != "$pgver" ]; then
	skip "the Debian package is built for PostgreSQL $pgver (debian/pgversions), PG_CONFIG is $major"
	exit 0
fi
mrl_ensure_packages test/deps.d/core.txt test/deps.d/encoder.txt test/deps.d/debian.txt ||
	{ notok "install the Debian build tools"; exit 1; }
version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" mrl.control)
package=postgresql-$pgver-mrl
work=$(mktemp -d /tmp/mrl-debian.XXXXXX)
chmod 755 "$work"
trap 'mrl_cluster_stop; rm -rf "$work"' EXIT
# the system's library, which nothing here may touch
system_so=/usr/lib/postgresql/$pgver/lib/mrl.so
system_before=$(stat -c '%i %s %Y' "$system_so" 2>/dev/null)

check "debian/changelog's upstream version is mrl.control's default_version" \
	"$(dpkg-parsechangelog -l debian/changelog -S Version | sed 's/-[^-]*$//')" "$version"
check "debian/control is debian/control.in for the versions in debian/pgversions" \
	"$(sed "s/PGVERSION/$pgver/" debian/control.in | cmp -s - debian/control && echo same)" same

# ---- build from a copy of the tracked (and new, not ignored) files
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -C "$work/src" -xf - || { notok "copy the source tree"; exit 1; }
# Two jobs (--jobs-force: pg_buildext runs make itself, without -j); no
# debug-symbol package; gzip -1 instead of xz for the .deb's container,
# which holds the same files (xz takes most of a minute on the 21 MB model).
t0=$(date +%s)
if (cd "$work/src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym" DPKG_DEB_COMPRESSOR_TYPE=gzip \
	DPKG_DEB_COMPRESSOR_LEVEL=1 dpkg-buildpackage -us -uc -b --jobs-force=2) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -b builds the package ($(($(date +%s) - t0)) s)"
else
	notok "dpkg-buildpackage -b failed"
	tail -n 30 "$work/build.log" | sed 's/^/# /'
	exit 1
fi
deb=$(ls "$work"/${package}_"$version"-*_*.deb 2>/dev/null | head -n 1)
check "it made $package $version" "$(dpkg-deb -f "$deb" Package Version 2>/dev/null | tr '\n' ' ')" \
	"Package: $package Version: $(dpkg-parsechangelog -l debian/changelog -S Version) "
depends=$(dpkg-deb -f "$deb" Depends)
for dep in "postgresql-$pgver" libopenblas0 liblapacke libjson-c libutf8proc; do
	case "$depends" in
		*"$dep"*) ok "Depends names $dep" ;;
		*) notok "Depends lacks $dep: $depends" ;;
	esac
done

# ---- a private copy of the server the package was built for, without mrl
root=$work/root
mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
cp -a "/usr/lib/postgresql/$pgver" "$root/usr/lib/postgresql/" &&
	cp -a "/usr/share/postgresql/$pgver" "$root/usr/share/postgresql/" || { notok "copy PostgreSQL $pgver"; exit 1; }
find "$root" -name 'mrl*' -prune -exec rm -rf {} +
pgc=$root/usr/lib/postgresql/$pgver/bin/pg_config
pkglibdir=$("$pgc" --pkglibdir)
extdir=$("$pgc" --sharedir)/extension
includedir=$("$pgc" --includedir-server)/extension
check "the copy's pg_config names the copy's directories" \
	"$pkglibdir $extdir" "$root/usr/lib/postgresql/$pgver/lib $root/usr/share/postgresql/$pgver/extension"
dpkg-deb -x "$deb" "$root" || { notok "dpkg-deb -x the package"; exit 1; }

# every file of the package is where pg_config says (or its documentation)
misplaced=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' | while read -r f; do
	case "$root$f" in
		"$pkglibdir"/* | "$extdir"/* | "$includedir"/* | "$root/usr/share/doc/$package"/*) ;;
		*) echo "$f" ;;
	esac
done)
check "every file of the package is under pg_config's pkglibdir, sharedir/extension or includedir-server/extension" "$misplaced" ""
# ... and everything `make install` installs is there, the same bytes
expected=0
found=0
for f in sql/mrl--*.sql; do
	[ "$f" = "sql/mrl--$version.sql" ] && continue
	expected=$((expected + 1))
	cmp -s "$f" "$extdir/${f#sql/}" && found=$((found + 1))
done
for f in mrl.control $(cd model && find . -type f | sed 's|^\./|mrl_model/|'); do
	expected=$((expected + 1))
	src=$f
	[ "${f#mrl_model/}" != "$f" ] && src=model/${f#mrl_model/}
	cmp -s "$src" "$extdir/$f" && found=$((found + 1))
done
check "the control file, SQL scripts and built-in model are installed unchanged" "$found of $expected" "$expected of $expected"
check "the current version's install script, the library and the header are installed" \
	"$(cat sql/install/*.sql | cmp -s - "$extdir/mrl--$version.sql" && [ -f "$pkglibdir/mrl.so" ] &&
		cmp -s src/mvector.h "$includedir/mrl/mvector.h" && echo yes)" yes
check "the library's shared objects all resolve" "$(ldd "$pkglibdir/mrl.so" | grep -c 'not found')" 0

# ---- a cluster of the copy runs pg_regress against the package's files
PG_BINDIR=$root/usr/lib/postgresql/$pgver/bin
mrl_cluster_start || { notok "start a cluster of the private copy"; exit 1; }
trap 'mrl_cluster_stop; rm -rf "$work"' EXIT
maps=$(psql -X -q -At -d postgres -c "CREATE EXTENSION mrl" -c "SELECT count(*) > 0
	FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\\n') l WHERE l LIKE '% $pkglibdir/mrl.so'")
check "the server loads the package's mrl.so" "$maps" t
psql -X -q -d postgres -c "DROP EXTENSION mrl"
if (cd "$work/src" && make -s installcheck PG_CONFIG="$pgc") >"$work/installcheck.log" 2>&1; then
	ok "make installcheck against the package: $(grep -o 'All [0-9]* tests passed' "$work/installcheck.log")"
else
	notok "make installcheck against the package"
	grep -E 'FAILED|failed' "$work/installcheck.log" | sed 's/^/# /'
	head -n 60 "$work/src/regression.diffs" 2>/dev/null | sed 's/^/# /'
fi

check "the system's $system_so is untouched" "$(stat -c '%i %s %Y' "$system_so" 2>/dev/null)" "$system_before"
check "the package is not registered in the system's dpkg database" \
	"$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -c 'install ok')" 0
