# Run (after wait-for.sh) in the dom0 by `unik run --domu --in-dom0` against
# examples/udp-echo as a domU: datagrams sent through bash's /dev/udp come back unchanged
# (each reply read whole by one `dd` read: a datagram socket gives one datagram per read),
# up to 1,3xx bytes: within one Ethernet frame, as the echo does not reassemble fragments.
answers() {
    bash -c 'exec 3<>"/dev/udp/$0/7" && printf "%s\n" "$1" >&3 &&
        [ "$(timeout 2 dd bs=65536 count=1 2>/dev/null <&3)" = "$1" ]' "$UNIK_DOMU_ADDRESS" "$1"
}
wait_for answers ping
echoed=0
for i in $(seq 1 20); do
    answers "datagram $i $(seq -s . 1 $((i * 17)))" && echoed=$((echoed + 1))
done
echo "echoed: $echoed of 20"
