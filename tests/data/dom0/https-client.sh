# Run (after wait-for.sh) in the dom0 by `unik run --domu --in-dom0` against
# examples/https as a domU. The
# dom0 cannot read the domU's console, where the certificate is printed, so it checks the
# certificate it is shown instead: made for `localhost`, self-signed.
base="https://$UNIK_DOMU_ADDRESS:8443"
wait_for curl -sk -o /dev/null -m 2 "$base/"
curl -sk "$base/"
curl -sk --http1.1 "$base/echo?from-dom0"
curl -s -o /dev/null "$base/" || echo "untrusted: refused"
# The domU logs the refused handshake on its console, which reaches the same output as
# this script's lines: let that line land before the next one, so the two never mix.
sleep 1
curl -skv -o /dev/null "$base/" 2>&1 | grep -o 'subject: CN=[^;]*' | head -1
