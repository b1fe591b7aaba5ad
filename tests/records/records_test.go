//go:build puente_testparams

package records

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	operatorv1 "github.com/puente-id/puente/proto/puente/operator/v1"
)

// The numbered cases of the issue "A node's records survive crashes, restarts, tampering and
// operators", each reproduced over two `puente serve` processes on loopback.

// TestCutAuditLogRefused (case 1): a node refuses to start on an audit log cut at its end, with
// a record edited in the middle, or deleted, and names the first bad record; `audit repair
// -accept-loss` is the one way on, and leaves the loss on record.
func TestCutAuditLogRefused(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	must(t, "search", "-home", us.home, "-partner", co.name, "-rows", "0", filepath.Join(data, "mated.json"))
	co.stop(t)
	logFile := filepath.Join(co.home, "audit.log")
	orig := fileLines(t, logFile)
	n := len(orig)

	// Drop the last lines.
	writeFile(t, logFile, strings.Join(orig[:n-3], ""))
	serveRefused(t, co, "audit.log", fmt.Sprintf("line %d", n-2), "puente audit repair")

	// Edit a record in the middle.
	mid := strings.Replace(orig[n/2], `"node":"co-migracion"`, `"node":"co-migracion2"`, 1)
	writeFile(t, logFile, strings.Join(orig[:n/2], "")+mid+strings.Join(orig[n/2+1:], ""))
	serveRefused(t, co, "audit.log", fmt.Sprintf("line %d", n/2+1))

	// Delete the log.
	os.Remove(logFile)
	serveRefused(t, co, "audit.log", "puente audit repair")
	if _, err := os.Stat(logFile); err == nil {
		t.Error("serve made a new audit log in place of the deleted one")
	}

	// The explicit way on: the cut is accepted, recorded, and the node starts.
	writeFile(t, logFile, strings.Join(orig[:n-3], ""))
	expect(t, 1, []string{"cut", "-accept-loss"}, "audit", "repair", "-home", co.home)
	expect(t, 0, []string{"loss"}, "audit", "repair", "-accept-loss", "-home", co.home)
	co.start(t)
	must(t, "search", "-home", us.home, "-partner", co.name, "-rows", "0", filepath.Join(data, "mated.json"))
	co.stop(t)
	must(t, "audit", "verify", "-home", co.home)
	if actions(t, co)["loss-accepted"] != 1 {
		t.Error("no loss-accepted record in the repaired log")
	}
}

// TestWitnessedHead (case 1, witnessing): every answer carries the responder's signed audit head
// and the querier records it; a responder's log cut after a head the querier saw is found by
// `audit verify -witness` with the querier's log, even with its head file rewritten to match.
func TestWitnessedHead(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	must(t, "search", "-home", us.home, "-partner", co.name, "-rows", "0,1,2", filepath.Join(data, "mated.json"))
	us.stop(t)
	co.stop(t)
	witnessed := 0
	for _, r := range auditLog(t, us) {
		if r.Role == "querier" && r.Outcome == "answered" {
			if r.Witness == nil || !regexp.MustCompile(`^\d+:[0-9a-f]{64}$`).MatchString(r.Witness.Head) {
				t.Fatalf("answered query %s without the responder's head: %+v", r.Request, r)
			}
			witnessed++
		}
	}
	if witnessed != 3 {
		t.Fatalf("%d witnessed answers, want 3", witnessed)
	}
	partnerLog := filepath.Join(us.home, "audit.log")
	expect(t, 0, []string{"3 heads witnessed by the partner's log"}, "audit", "verify", "-home", co.home, "-witness", partnerLog)

	// An insider cuts co-migracion's last records and rewrites the head file to match.
	logFile := filepath.Join(co.home, "audit.log")
	lines := fileLines(t, logFile)
	cut := strings.Join(lines[:len(lines)-4], "")
	ring, cutFile := filepath.Join(t.TempDir(), "ring.json"), filepath.Join(t.TempDir(), "cut.log")
	must(t, "keys", "keyring", "-home", co.home, ring)
	writeFile(t, cutFile, cut)
	m := regexp.MustCompile(`head \(note it[^)]*\): (\d+:[0-9a-f]{64})`).FindStringSubmatch(must(t, "audit", "verify", "-log", cutFile, "-keyring", ring))
	if m == nil {
		t.Fatal("audit verify of the cut log printed no head")
	}
	writeFile(t, logFile, cut)
	writeFile(t, logFile+".head", "puente-audit-head/v1 "+m[1]+"\n")
	must(t, "audit", "verify", "-home", co.home) // the node's own checks pass
	co.start(t)                                  // and it starts
	co.stop(t)
	expect(t, 3, []string{"BAD", "audit.log", "us-cbp's record", "cut"}, "audit", "verify", "-home", co.home, "-witness", partnerLog)
}

// TestKeyCommandsThroughRunningNode (case 2): key commands on a running node go through it, are
// audited, and take effect at once.
func TestKeyCommandsThroughRunningNode(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	mated := filepath.Join(data, "mated.json")
	must(t, "search", "-home", us.home, "-partner", co.name, "-rows", "0", mated)

	must(t, "keys", "epoch", "-home", co.home, "-agreement", "us-co", "-epoch", "1", "revoke")
	// From that moment the revoked epoch answers nothing.
	expect(t, 1, []string{"FailedPrecondition"}, "search", "-home", us.home, "-partner", co.name, "-rows", "0", mated)
	out := must(t, "keys", "rotate", "-home", co.home, "-overlap", "0")
	if !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate: %s", out)
	}
	co.stop(t)
	must(t, "audit", "verify", "-home", co.home)
	if acts := actions(t, co); acts["epoch-revoked"] != 1 || acts["signing-key-rotated"] != 1 {
		t.Errorf("co-migracion's log records %v, want one epoch-revoked and one signing-key-rotated", acts)
	}
	// After a restart the node says the epoch was revoked, not that no ceremony ran.
	co.start(t)
	if st := status(t, co); st.Partners[0].Epoch != 0 {
		t.Errorf("status after restart: %+v", st)
	}
	expect(t, 1, []string{"revoked"}, "search", "-home", co.home, "-partner", us.name, "-rows", "0", mated)
}

// TestStateChecked (case 3): a missing or corrupt state.db is refused with the command that
// rebuilds it, and the rebuild takes the quota from what the audit log proves was used.
func TestStateChecked(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	must(t, "search", "-home", us.home, "-partner", co.name, "-rows", "0,1,2", filepath.Join(data, "mated.json"))
	if st := status(t, co); st.Partners[0].QuotaUsed != 3 {
		t.Fatalf("quota used %d, want 3", st.Partners[0].QuotaUsed)
	}
	co.stop(t)
	stateFile := filepath.Join(co.home, "state.db")
	good, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}

	os.Remove(stateFile)
	serveRefused(t, co, "state.db", "puente state rebuild")
	if _, err := os.Stat(stateFile); err == nil {
		t.Error("serve made a new state.db in place of the deleted one")
	}

	// Corrupt: every page after the meta pages overwritten.
	bad := append([]byte(nil), good...)
	for i := 2 * 4096; i < len(bad); i++ {
		bad[i] = 0xa5
	}
	writeFile(t, stateFile, string(bad))
	serveRefused(t, co, "state.db", "puente state rebuild")
	r := runPuente(t, "status", "-home", co.home)
	if r.code != 1 || !strings.Contains(r.stderr, "state.db") {
		t.Errorf("status with a corrupt state.db: exit %d\n%s", r.code, r)
	}

	out := must(t, "state", "rebuild", "-home", co.home)
	if !strings.Contains(out, "3 queries of us-cbp") {
		t.Errorf("state rebuild: %s", out)
	}
	co.start(t)
	if st := status(t, co); st.Partners[0].QuotaUsed != 3 {
		t.Errorf("quota used after the rebuild: %d, want 3 (what the audit log proves)", st.Partners[0].QuotaUsed)
	}
	must(t, "search", "-home", us.home, "-partner", co.name, "-rows", "3", filepath.Join(data, "mated.json"))
	co.stop(t)
	if rebuilt := actions(t, co)["state-rebuilt"]; rebuilt != 1 {
		t.Errorf("%d state-rebuilt records, want 1", rebuilt)
	}
}

// TestStrangersSummarised (case 4): refusals of a peer whose certificate is no partner's are
// summarised, one record per source and interval with a count, instead of one signed record
// each.
func TestStrangersSummarised(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	co := newNode(t, dir, "co-migracion")
	mallory := newNode(t, dir, "mallory")
	link(t, mallory, co, "1000 per 24h")
	co.start(t)
	before := len(auditLog(t, co))
	const attempts = 30
	for range attempts {
		r := runPuente(t, "ceremony", "-home", mallory.home, "-partner", co.name)
		if r.code != 1 {
			t.Fatalf("a stranger's ceremony: exit %d\n%s", r.code, r)
		}
	}
	co.stop(t)
	recs := auditLog(t, co)[before:]
	var summaries, count, other int
	for _, r := range recs {
		if r.Partner == "unidentified" || r.Kind == "refusals" {
			summaries++
			count += int(r.Count)
			if r.Kind != "refusals" || r.Source != "127.0.0.1" || r.Refusal != "unauthenticated" {
				other++
			}
		}
	}
	if other > 0 {
		t.Errorf("%d records about the stranger are not refusal summaries of 127.0.0.1", other)
	}
	t.Logf("%d attempts of a stranger: %d audit records, counting %d refusals", attempts, summaries, count)
	if summaries == 0 || summaries > 2 || count < attempts {
		t.Errorf("%d records counting %d refusals for %d attempts; want one or two summaries (one per interval) counting them all", summaries, count, attempts)
	}
}

// TestHungPartnerDeadline (case 5): with the partner stopped (SIGSTOP), a search ends with
// DeadlineExceeded once its deadline has passed.
func TestHungPartnerDeadline(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	if err := co.serve.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer co.serve.Process.Signal(syscall.SIGCONT)
	// runPuente's own limit is five minutes: the search must end long before, by its deadline.
	r := runPuente(t, "search", "-home", us.home, "-partner", co.name, "-deadline", "3s", "-rows", "0", filepath.Join(data, "mated.json"))
	if r.code != 1 || !strings.Contains(r.stderr, "DeadlineExceeded") {
		t.Fatalf("search of a hung partner: exit %d\n%s", r.code, r)
	}
	co.serve.Process.Signal(syscall.SIGCONT)
}

// TestStaleProtectedProbeRefused (case 6): a protected probe file names its agreement and epoch,
// and one made under a revoked epoch is refused before any quota is used.
func TestStaleProtectedProbeRefused(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	dir := t.TempDir()
	var rows [][]float64
	b, _ := os.ReadFile(filepath.Join(data, "mated.json"))
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	one, _ := json.Marshal(rows[:1])
	probe, prot := filepath.Join(dir, "probe.json"), filepath.Join(dir, "protected.json")
	writeFile(t, probe, string(one))
	must(t, "protect", "-home", us.home, "-partner", co.name, probe, prot)
	var f struct {
		Agreement string `json:"agreement"`
		Epoch     uint64 `json:"epoch"`
	}
	b, _ = os.ReadFile(prot)
	if err := json.Unmarshal(b, &f); err != nil || f.Agreement != "us-co" || f.Epoch != 1 {
		t.Fatalf("protected file %s: %+v %v", b, f, err)
	}
	if ls := decisions(t, must(t, "search", "-home", us.home, "-partner", co.name, "-protected", "-json", prot)); len(ls) != 1 || !ls[0].Hit {
		t.Fatalf("search with the protected probe: %+v", ls)
	}
	must(t, "revoke", "-home", us.home, "-partner", co.name)
	waitGalleryEpoch(t, co, 2)
	used := status(t, co).Partners[0].QuotaUsed
	expect(t, 1, []string{"epoch 1", "epoch 2"}, "search", "-home", us.home, "-partner", co.name, "-protected", prot)
	if got := status(t, co).Partners[0].QuotaUsed; got != used {
		t.Errorf("a refused stale probe used quota: %d, was %d", got, used)
	}
}

// TestReferencesValidated (case 7): subject references must be UTF-8 without control
// characters at every entry point; the operator socket refuses bytes it would have mangled.
func TestReferencesValidated(t *testing.T) {
	t.Parallel()
	_, co, data := recordsPair(t, true)
	gallery := filepath.Join(data, "gallery.json")
	refs := fileLines(t, filepath.Join(data, "gallery.refs"))
	for _, c := range []struct {
		what, ref, want string
	}{
		{"invalid UTF-8", "\xff-9", "UTF-8"},
		{"a TAB", "case\t9", "control character"},
		{"a control character", "case\x1b9", "control character"},
	} {
		bad := append([]string(nil), refs...)
		bad[9] = c.ref + "\n"
		file := filepath.Join(t.TempDir(), "refs")
		writeFile(t, file, strings.Join(bad, ""))
		expect(t, 1, []string{"refs:10", c.want}, "enroll", "-home", co.home, "-partner", "us-cbp", "-refs", file, gallery)
		expect(t, 1, []string{c.want}, "references", "-home", co.home, "-partner", "us-cbp", c.ref)
	}
	// The socket itself (the operator API, gRPC): a request that is not UTF-8 is refused with
	// InvalidArgument, not read as U+FFFD.
	sock := filepath.Join(co.home, "run", "admin.sock")
	conn, err := grpc.NewClient("passthrough:///puente-operator", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The bad reference goes as an unknown field, which Marshal copies as it is, numbered as refs.
	req := &operatorv1.ReferencesRequest{Partner: "us-cbp"}
	req.ProtoReflect().SetUnknown(protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "\xff-9"))
	_, err = operatorv1.NewOperatorServiceClient(conn).References(context.Background(), req)
	if code := grpcstatus.Code(err); code != codes.InvalidArgument || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("operator socket: invalid UTF-8 answered %v (%v), want InvalidArgument naming UTF-8", code, err)
	}
}

// TestEnrolChecksAndResumes (case 9): a value that does not fit float32 is refused before the
// first batch; an interrupted enrolment resumes with -resume.
func TestEnrolChecksAndResumes(t *testing.T) {
	t.Parallel()
	_, co, data := recordsPair(t, false)
	must(t, "ceremony", "-home", co.home, "-partner", "us-cbp")
	var rows [][]float64
	b, _ := os.ReadFile(filepath.Join(data, "gallery.json"))
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	huge := make([][]float64, len(rows))
	for i := range rows {
		huge[i] = append([]float64(nil), rows[i]...)
	}
	huge[12][3] = 1e200
	hb, _ := json.Marshal(huge)
	hugeFile := filepath.Join(t.TempDir(), "huge.json")
	writeFile(t, hugeFile, string(hb))
	refs := filepath.Join(data, "gallery.refs")
	expect(t, 1, []string{"row 12", "float32"}, "enroll", "-home", co.home, "-partner", "us-cbp", "-refs", refs, "-batch", "4", hugeFile)
	if st := status(t, co); st.Partners[0].Enrolled != 0 {
		t.Fatalf("%d subjects enrolled from a file refused up front", st.Partners[0].Enrolled)
	}

	// An enrolment that stopped after 10 rows resumes.
	first := filepath.Join(t.TempDir(), "first.json")
	fb, _ := json.Marshal(rows[:10])
	writeFile(t, first, string(fb))
	firstRefs := filepath.Join(t.TempDir(), "first.refs")
	writeFile(t, firstRefs, strings.Join(fileLines(t, refs)[:10], ""))
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", "-refs", firstRefs, first)
	expect(t, 1, []string{"-resume"}, "enroll", "-home", co.home, "-partner", "us-cbp", "-refs", refs, "-batch", "4", filepath.Join(data, "gallery.json"))
	out := must(t, "enroll", "-home", co.home, "-partner", "us-cbp", "-refs", refs, "-batch", "4", "-resume", filepath.Join(data, "gallery.json"))
	if !strings.Contains(out, "enrolled 6 subjects") || !strings.Contains(out, "10 already enrolled") || !strings.Contains(out, "holds 16") {
		t.Errorf("resumed enrolment: %s", out)
	}
	// A resumed row whose features differ from the enrolled ones is refused.
	rows[2][0] += 0.5
	cb, _ := json.Marshal(rows)
	changed := filepath.Join(t.TempDir(), "changed.json")
	writeFile(t, changed, string(cb))
	expect(t, 1, []string{"other features"}, "enroll", "-home", co.home, "-partner", "us-cbp", "-refs", refs, "-resume", changed)
}

// TestGalleryDamageFoundEarly (case 10): `gallery verify` opens every sealed record; serve checks
// the gallery's structure when it starts and refuses a missing gallery that was enrolled.
func TestGalleryDamageFoundEarly(t *testing.T) {
	t.Parallel()
	_, co, _ := recordsPair(t, true)
	co.stop(t)
	galFile := filepath.Join(co.home, "gallery", "us-co.db")
	good, err := os.ReadFile(galFile)
	if err != nil {
		t.Fatal(err)
	}
	must(t, "gallery", "verify", "-home", co.home, "-partner", "us-cbp")

	// One sealed record damaged: found by gallery verify, which names it.
	editBolt(t, galFile, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if !strings.HasPrefix(string(name), "epoch/") {
				return nil
			}
			k, v := b.Cursor().First()
			v = append([]byte(nil), v...)
			v[len(v)/2] ^= 1
			return b.Put(k, v)
		})
	})
	expect(t, 3, []string{"BAD: ", "record", "1 of 32"}, "gallery", "verify", "-home", co.home, "-partner", "us-cbp")

	// Its structure broken (an enrolled subject's archive entry gone): serve refuses to start.
	writeFile(t, galFile, string(good))
	editBolt(t, galFile, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("archive"))
		k, _ := b.Cursor().First()
		return b.Delete(k)
	})
	serveRefused(t, co, "us-co.db", "archive")

	// A deleted gallery that was enrolled is not silently made anew; `gallery forget` is the
	// explicit, audited way on.
	os.Remove(galFile)
	serveRefused(t, co, "us-co.db", "missing", "puente gallery forget")
	must(t, "gallery", "forget", "-home", co.home, "-partner", "us-cbp")
	co.start(t)
	if st := status(t, co); st.Partners[0].Enrolled != 0 {
		t.Errorf("after gallery forget: %+v", st)
	}
	co.stop(t)
	if lost := actions(t, co)["gallery-lost"]; lost != 2 {
		t.Errorf("%d gallery-lost records, want 2 (data and archive keys)", lost)
	}
}

// editBolt changes a bbolt file in one transaction.
func editBolt(t *testing.T, path string, f func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(f); err != nil {
		t.Fatal(err)
	}
}

// TestOperatorMistakes (case 11): policy check compares the policy's partners with the
// configuration; partner add checks -address and leaves no card behind when it fails; a second
// serve on one home says a node runs there.
func TestOperatorMistakes(t *testing.T) {
	t.Parallel()
	us, co, _ := recordsPair(t, false)
	policyFile := filepath.Join(us.home, "policy.hcl")
	pol, _ := os.ReadFile(policyFile)
	edited := regexp.MustCompile(`agreement\s*=\s*"us-co"`).ReplaceAllString(string(pol), `agreement = "us-co-2"`)
	if edited == string(pol) {
		t.Fatalf("no agreement = \"us-co\" in %s:\n%s", policyFile, pol)
	}
	writeFile(t, policyFile, edited)
	expect(t, 3, []string{"us-co-2", "us-co", "puente.hcl"}, "policy", "check", "-home", us.home)
	writeFile(t, policyFile, string(pol))

	third := newNode(t, t.TempDir(), "third")
	card := filepath.Join(third.home, "card.json")
	expect(t, 2, []string{"-address", "notaport"}, "partner", "add", "-home", us.home, "-card", card, "-agreement", "us-3", "-address", "notaport")
	expect(t, 2, []string{"-threshold"}, "partner", "add", "-home", us.home, "-card", card, "-agreement", "us-3", "-address", "127.0.0.1:1", "-threshold", "5")
	if _, err := os.Stat(filepath.Join(us.home, "partners", "third.card.json")); err == nil {
		t.Error("a refused partner add left the partner's card behind")
	}
	r := serveRefused(t, co, "already running")
	if strings.Contains(r, "another writer") {
		t.Errorf("a second serve blames the audit lock:\n%s", r)
	}
}
