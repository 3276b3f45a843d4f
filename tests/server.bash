# start_server [FACESERVE-OPTIONS]: faceserve on a free port of 127.0.0.1,
# its run files in a folder of the test's; sets PORT, URL, RUN (that
# folder) and SERVER (the script's pid).  stop_server ends it.
start_server() {
	local try i
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$((20000 + RANDOM % 40000))
		RUN=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/run$try
		URL=http://127.0.0.1:$PORT
		# job control, so that the server takes SIGINT as from a terminal;
		# and SIGINT's default restored, since a shell cannot trap a signal
		# ignored when it started (as under `nohup make check &`)
		set -m
		env --default-signal=INT faceserve -p "$PORT" -d "$RUN" "$@" 2> "$RUN.log" 3>&- &
		SERVER=$!
		set +m
		for i in $(seq 300); do
			kill -0 "$SERVER" 2> /dev/null || break
			# the answer is lighttpd's, as faceserve set it up (not
			# another server that had the port)
			curl -s -I "$URL/" 2> /dev/null | grep -q '^Server: facekit' && return 0
			sleep 0.05
		done
		stop_server
	done
	fail "faceserve did not start: $(cat "$RUN.log")"
}

stop_server() {
	[ -n "${SERVER-}" ] || return 0
	# a server that has ended already may be reaped and gone
	kill -TERM "$SERVER" 2> /dev/null || true
	# its status is not ours: a server that could not start on a busy
	# port ends non-zero, and start_server tries another
	wait "$SERVER" 2> /dev/null || true
	SERVER=
}
