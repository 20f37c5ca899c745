# Prepended by the domU tests to their dom0 clients: `wait_for COMMAND…` retries the
# command every 0.2 s until it succeeds (the domU is still booting), 30 s at most.
wait_for() {
    tries=0
    until "$@"; do
        tries=$((tries + 1))
        [ "$tries" -lt 150 ] || { echo "the server never answered"; exit 1; }
        sleep 0.2
    done
}
