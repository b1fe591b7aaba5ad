package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/demo"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "demo", summary: "run two agencies on this machine: key ceremony, enrolment, hit/no-hit searches and a verification",
		usage: "[-dir DIR] [-keep] [-json] [-gallery N] [-seed S] [-he-params NAME] [-write-data DIR]",
		examples: []string{"puente demo",
			"puente demo -keep -dir /tmp/puente-demo   # keep both nodes' homes and the data",
			"puente demo -json                          # one JSON object per step",
			"puente demo -write-data ./demo-data        # only write the synthetic feature files"},
		run: runDemo})
}

// The demo's two agencies; us-cbp asks, co-migracion answers.
const (
	demoQuerier   = "us-cbp"
	demoResponder = "co-migracion"
	// demoCandidates probes of each kind are drawn; the first whose plaintext answer is clear is used.
	demoCandidates = 16
	// demoMargin: a plaintext score within it of tau is not clear (the encrypted threshold's band
	// is ±0.0078 at the production parameters, docs/he-parameters.md).
	demoMargin = 0.01
	demoSteps  = 7
)

// demoRun is one run of the demo.
type demoRun struct {
	out      *demoOut
	dir      string
	params   string
	info     he.ParamInfo
	pop      *demo.Population
	us, co   *demoNode
	start    time.Time
	mismatch []string // decisions that differ from their plaintext answers
}

func runDemo(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dirFlag := fs.String("dir", "", "work in DIR (created if missing, must be empty) and keep it; default: a temporary directory")
	keep := fs.Bool("keep", false, "keep the temporary directory: both nodes' homes, logs and the synthetic data")
	asJSON := fs.Bool("json", false, "print one JSON object per step instead of text")
	size := fs.Int("gallery", 200, "subjects co-migracion enrols, 16 to 32768 (one ciphertext block: the same search time); at tau = 0.9234 a larger gallery has more look-alikes of a non-mated probe")
	seed := fs.Uint64("seed", 1, "seed of the synthetic population")
	params := fs.String("he-params", "puente-ckks-n15-v2", "HE parameter set; the INSECURE test sets are for tests only")
	dataOnly := fs.String("write-data", "", "only write the synthetic feature files to this directory, then stop")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("demo takes no arguments, got %q", rest[0])
	}
	if *size < demoCandidates || *size > 32768 {
		return usagef("-gallery must be between %d and 32768, got %d", demoCandidates, *size)
	}
	ps, err := home.LookupParams(*params)
	if err != nil {
		return usagef("-he-params: %v", err)
	}
	pop, err := demo.NewPopulation(demo.DlibLike, *seed, *size, demoCandidates)
	if err != nil {
		return err
	}
	if *dataOnly != "" {
		return writeDemoData(st, *dataOnly, pop)
	}
	d := &demoRun{out: &demoOut{w: st.out, json: *asJSON, steps: demoSteps}, params: *params, info: ps.Info(), pop: pop, start: time.Now()}
	temp := *dirFlag == ""
	if d.dir, err = demoDir(*dirFlag); err != nil {
		return err
	}
	err = d.run(ctx)
	err = errors.Join(err, d.stopNodes())
	kept := !temp || *keep || err != nil
	if !kept {
		err = errors.Join(err, os.RemoveAll(d.dir))
	}
	d.finish(err, kept)
	return err
}

// demoDir makes the working directory: a new temporary one, or dir if it is empty or missing.
func demoDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "puente-demo-")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if ents, err := os.ReadDir(abs); err == nil && len(ents) > 0 {
		return "", fmt.Errorf("%s is not empty; the demo needs a new or empty directory", abs)
	}
	return abs, os.MkdirAll(abs, 0o700)
}

// run does the demo's steps in order; the caller stops the nodes.
func (d *demoRun) run(ctx context.Context) error {
	o := d.out
	o.plain("Puente demo: two agencies, %s and %s, on this machine.", demoQuerier, demoResponder)
	o.plain("HE parameters %s (ring degree 2^%d, %s). Working in %s.", d.params, d.info.LogN, securityOf(d.info), d.dir)
	o.event(demoEvent{Step: "setup", Dir: d.dir, Params: d.params, Insecure: d.info.Insecure})
	if d.info.Insecure {
		o.plain("WARNING: %s is an INSECURE test parameter set; the nodes are marked as test nodes.", d.params)
	}
	if err := writeDemoFiles(filepath.Join(d.dir, "data"), d.pop); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{d.setUp, d.serve, d.ceremony, d.enrol, d.queries} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func securityOf(info he.ParamInfo) string {
	if info.Insecure {
		return "INSECURE: no security, for tests only"
	}
	return fmt.Sprintf("%d-bit security", info.SecurityBits)
}

// setUp makes both homes and the agreement between them.
func (d *demoRun) setUp(ctx context.Context) error {
	o := d.out
	o.header("Each agency creates its node")
	t := time.Now()
	var err error
	if d.us, err = newDemoNode(ctx, d.dir, demoQuerier, d.info.Insecure); err != nil {
		return err
	}
	if d.co, err = newDemoNode(ctx, d.dir, demoResponder, d.info.Insecure); err != nil {
		return err
	}
	if err := d.us.addPartner(d.co, d.params); err != nil {
		return err
	}
	if err := d.co.addPartner(d.us, d.params); err != nil {
		return err
	}
	o.say("Each gets an age identity, an ML-DSA-65 signing key and a TLS certificate (%s).", secs(time.Since(t)))
	o.say("They swap cards (public keys only) and set up agreement %s: PolyProtect templates,", demoAgreement)
	o.say("threshold tau = %g, query quota %s, at most %s verifications of any one reference.", demoTau, demoQuota, demoVerify)
	o.cmd("init -home %s -listen %s %s   (and the same for %s)", demoQuerier, d.us.listen, demoQuerier, demoResponder)
	o.cmd("partner add -home %s -card %s/card.json -agreement %s -address ADDR -he-params %s", demoQuerier, demoResponder, demoAgreement, d.params)
	return nil
}

// serve starts both nodes as separate processes of this binary.
func (d *demoRun) serve(ctx context.Context) error {
	o := d.out
	o.header("Each agency starts its node: a process of its own, serving gRPC with mutual TLS")
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program to start the nodes: %w", err)
	}
	for _, n := range []*demoNode{d.us, d.co} {
		t := time.Now()
		if err := n.start(ctx, exe); err != nil {
			return err
		}
		o.say("%-13s pid %d, listening on %s (%s)", n.name, n.pid(), n.listen, secs(time.Since(t)))
		o.event(demoEvent{Step: "serve", Node: n.name, PID: n.pid(), Listen: n.listen, ElapsedMS: time.Since(t).Milliseconds()})
	}
	o.say("Each reaches the other through a relay of the demo's, which counts the bytes on the wire.")
	o.cmd("serve -home %s", demoQuerier)
	return nil
}

// wire returns the bytes the relays have forwarded so far from us-cbp to co-migracion and back.
func (d *demoRun) wire() (toCo, toUS int64) {
	upCo, downCo := d.co.relay.Bytes() // connections us-cbp opened to co-migracion
	upUS, downUS := d.us.relay.Bytes() // connections co-migracion opened to us-cbp
	return upCo + downUS, downCo + upUS
}

// ceremony runs the key ceremony from us-cbp.
func (d *demoRun) ceremony(ctx context.Context) error {
	o := d.out
	o.header("Key ceremony, started by %s", demoQuerier)
	o.say("The nodes make one collective encryption key per direction and the shared transform seed;")
	o.say("each keeps only its own secret share, so neither can ever decrypt alone.")
	s0, r0 := d.wire()
	t := time.Now()
	rep, err := d.us.op.Ceremony(ctx, demoResponder, 0)
	if err != nil {
		return fmt.Errorf("key ceremony: %w", err)
	}
	took := time.Since(t)
	s1, r1 := d.wire()
	o.say("Epoch %d is current: %d key-share exchanges in %s; on the wire %s to %s, %s back.",
		rep.Epoch, rep.Exchanges, secs(took), mb(s1-s0), demoResponder, mb(r1-r0))
	o.cmd("ceremony -home %s -partner %s", demoQuerier, demoResponder)
	o.event(demoEvent{Step: "ceremony", Node: demoQuerier, Partner: demoResponder, Epoch: rep.Epoch, Exchanges: rep.Exchanges,
		HESent: rep.BytesSent, HERecv: rep.BytesRecv, WireSent: s1 - s0, WireRecv: r1 - r0, ElapsedMS: took.Milliseconds()})
	return nil
}

// enrol has co-migracion enrol the synthetic gallery.
func (d *demoRun) enrol(ctx context.Context) error {
	o := d.out
	o.header("%s enrols %d subjects in the gallery %s may search", demoResponder, len(d.pop.Gallery), demoQuerier)
	raw := make([][]float32, len(d.pop.Gallery))
	for i, v := range d.pop.Gallery {
		raw[i] = make([]float32, len(v))
		for j, x := range v {
			raw[i][j] = float32(x)
		}
	}
	s0, r0 := d.wire()
	t := time.Now()
	rep, err := d.co.op.Enrol(ctx, demoQuerier, d.pop.Refs, raw, protocol.EnrolOptions{})
	if err != nil {
		return fmt.Errorf("enrolment: %w", err)
	}
	took := time.Since(t)
	s1, r1 := d.wire()
	o.say("Synthetic face-embedding-like vectors (128 values, seed-generated, nobody real), protected")
	o.say("under epoch %d's transform and sealed at rest, in %s; %d bytes crossed the wire.", rep.Epoch, secs(took), s1-s0+r1-r0)
	o.cmd("enroll -home %s -partner %s -refs data/gallery.refs data/gallery.json", demoResponder, demoQuerier)
	o.event(demoEvent{Step: "enrol", Node: demoResponder, Partner: demoQuerier, Epoch: rep.Epoch, Enrolled: rep.Total, ElapsedMS: took.Milliseconds()})
	return nil
}

// writeDemoData writes the synthetic feature files for -write-data.
func writeDemoData(st *stdio, dir string, pop *demo.Population) error {
	if err := writeDemoFiles(dir, pop); err != nil {
		return err
	}
	fmt.Fprintf(st.out, "wrote %s: gallery.json (%d subjects, one capture each; references in gallery.refs),\n", dir, len(pop.Gallery))
	fmt.Fprintf(st.out, "mated.json (%d new captures of enrolled subjects; theirs in mated.refs), non-mated.json (%d people never enrolled)\n",
		len(pop.Mated), len(pop.NonMated))
	return nil
}

// writeDemoFiles writes the population as feature files puente enroll and search read.
func writeDemoFiles(dir string, pop *demo.Population) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var mated, non [][]float64
	var matedRefs []string
	for i := range pop.Mated {
		mated = append(mated, pop.Mated[i].Features)
		matedRefs = append(matedRefs, pop.Refs[pop.Mated[i].Subject])
		non = append(non, pop.NonMated[i].Features)
	}
	for name, v := range map[string]any{"gallery.json": pop.Gallery, "mated.json": mated, "non-mated.json": non} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	for name, refs := range map[string][]string{"gallery.refs": pop.Refs, "mated.refs": matedRefs} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(refs, "\n")+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}
