# test/bench/timing.sh: query timing for the benchmarks.  Source it after
# test/lib.sh; it defines median_of.

# median_of SQL...: the median time in ms of the statements, run in one psql
# session with \timing; the first is a warm-up and is not counted
median_of()
{
	{
		echo "\\timing on"
		printf '%s\n' "$@"
	} | psql -X -q -At | grep '^Time:' | tail -n +2 | awk '{print $2}' | sort -n |
		awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# interleaved_medians ROUNDS NAME=SQL...: runs every statement once per round,
# in order, in one psql session, so that load from elsewhere hits them alike,
# and prints "NAME median_ms" for each, the first round (a warm-up) not
# counted.  ROUND in a statement stands for the round number (1 to ROUNDS;
# the warm-up uses 1).  SQL may be commands separated by "; " (settings
# first): only the last one is timed.
interleaved_medians()
{
	local rounds=$1 r pair sql name times
	shift
	{
		echo "\\timing on"
		for r in $(seq 0 "$rounds"); do
			for pair in "$@"; do
				sql=${pair#*=}
				sql=${sql//ROUND/$((r == 0 ? 1 : r))}
				# the commands before the last "; ", the label, the timed command
				[[ $sql == *"; "* ]] && echo "${sql%; *};"
				echo "\\echo @${pair%%=*} $r"
				echo "${sql##*; }"
			done
		done
	} | psql -X -q -At | awk '/^@/ {name = substr($1, 2); round = $2; next}
		/^Time:/ && name != "" {if (round > 0) t[name] = t[name] " " $2; name = ""}
		END {for (n in t) print n, t[n]}' | sort | while read -r name times; do
		echo "$name $(printf '%s\n' $times | sort -n |
			awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')"
	done
}
