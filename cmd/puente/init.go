package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "init", summary: "create a node's home: identity, signing key, TLS certificate, policy, configuration, card",
		usage: "[-home DIR] [-listen ADDR] [-metrics ADDR] [-csr] [-test-node] [-classical] NODE",
		examples: []string{"puente init -home /var/lib/puente -listen 0.0.0.0:7443 -metrics 127.0.0.1:9464 us-cbp",
			"puente init -home /var/lib/puente -csr us-cbp   # then have tls/node.csr signed and install tls/node.crt",
			"puente init -home /tmp/alpha -test-node -listen 127.0.0.1:7443 alpha"},
		run: runInit})
}

func runInit(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	listen := fs.String("listen", "127.0.0.1:7443", "address partners reach this node at")
	metrics := fs.String("metrics", "", "address of the Prometheus metrics endpoint (none if empty)")
	csr := fs.Bool("csr", false, "write a TLS certificate request (tls/node.csr) instead of a self-signed certificate")
	test := fs.Bool("test-node", false, "mark the node as a TEST node, allowed the INSECURE test HE parameters")
	classical := fs.Bool("classical", false, "use a classical X25519 age identity instead of hybrid ML-KEM-768+X25519")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("init needs one node name, e.g. us-cbp; got %d arguments", len(rest))
	}
	if !audit.ValidNodeName(rest[0]) || !keys.ValidName(rest[0]) {
		return usagef("node name %q: want lower-case letters, digits, '.', '_' and '-', at most 64 bytes", rest[0])
	}
	card, err := home.InitHome(ctx, *dir, home.InitOptions{Node: rest[0], Listen: *listen, MetricsListen: *metrics,
		TestNode: *test, CSR: *csr, Classical: *classical, NewState: protocol.CreateState})
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "node %s created in %s\n", card.Node, *dir)
	fmt.Fprintf(st.out, "card for partners: %s (TLS pin %s, signing key %s)\n", home.CardFile(*dir), card.Pin, card.Keyring.Entries()[0].ID)
	if *csr {
		fmt.Fprintf(st.out, "certificate request: %s; install the signed certificate as tls/node.crt, then run 'puente card'\n", home.CSRFile(*dir))
	}
	fmt.Fprintln(st.out, "next: review policy.hcl, then 'puente partner add' for each partner agency")
	return nil
}
