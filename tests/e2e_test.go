//go:build puente_testparams

package tests

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/internal/lfw/lfwtest"
	"github.com/puente-id/puente/protect"
)

// e2eParams is the HE parameter set of the main scenario. By default it is the INSECURE N = 2^12
// test set, which keeps the whole scenario within the test budget; the full scenario on the real
// set takes about three minutes on two cores:
//
//	PUENTE_E2E_PARAMS=puente-ckks-n15-v2 go test ./tests -run TestEndToEnd -v
//
// TestRealParameters runs the ceremony and searches on the real set in every default run.
func e2eParams() string {
	if p := os.Getenv("PUENTE_E2E_PARAMS"); p != "" {
		return p
	}
	return "INSECURE-test-n12"
}

// realParams is the production parameter set.
const realParams = "puente-ckks-n15-v2"

// tau is PolyProtect's threshold at FMR 1e-3 on this data (docs/evaluation.md, section 3).
const tau = 0.9234

// margin keeps test probes away from tau: a plaintext score within it could be decided either
// way by the threshold polynomial (its band at these parameters is about 0.0075).
const margin = 0.02

// scenario is the data of the main scenario: LFW rows, which node enrols which, and the probes.
type scenario struct {
	set        *lfw.Set
	galUS      []int // enrolled by us-cbp, searched by co-migracion
	galCO      []int // enrolled by co-migracion, searched by us-cbp
	mated      []int // candidate mated probes (other images of enrolled identities)
	nonMated   []int
	dir        string
	identityOf map[int]int // label -> gallery row of that identity
}

func loadScenario(t *testing.T, dir string) *scenario {
	t.Helper()
	set := lfwtest.Set(t) // real protected templates: the LFW embeddings
	o := set.OpenSet()
	s := &scenario{set: set, dir: dir, mated: o.Mated, nonMated: o.NonMated, identityOf: map[int]int{}}
	for i, r := range o.Gallery {
		if i%2 == 0 {
			s.galCO = append(s.galCO, r)
		} else {
			s.galUS = append(s.galUS, r)
		}
		s.identityOf[set.Label[r]] = r
	}
	return s
}

// file writes rows of the set as an .npy file and returns its path.
func (s *scenario) file(t *testing.T, name string, rows []int) string {
	t.Helper()
	m := make([][]float64, len(rows))
	for i, r := range rows {
		m[i] = s.set.Emb.Row(r)
	}
	path := filepath.Join(s.dir, name)
	writeNPY(t, path, m)
	return path
}

// probes picks up to k mated probes of identities in gallery and k non-mated probes whose best
// protected score (computed by the querier under the current epoch: the plaintext answer) is
// outside tau ± margin, and returns them with the answers.
func (s *scenario) probes(t *testing.T, q *node, partner string, gallery []int, k int) (rows []int, hits []bool) {
	t.Helper()
	inGallery := map[int]bool{}
	for _, r := range gallery {
		inGallery[s.set.Label[r]] = true
	}
	var cands []int
	for _, r := range s.mated {
		if inGallery[s.set.Label[r]] && len(cands) < 12 {
			cands = append(cands, r)
		}
	}
	cands = append(cands, s.nonMated[:12]...)
	best := s.bestScores(t, q, partner, gallery, cands)
	nm, nn, skipped := 0, 0, 0
	for i, r := range cands {
		mated := i < len(cands)-12
		switch {
		case math.Abs(best[i]-tau) < margin:
			skipped++
		case mated && nm < k:
			rows, hits = append(rows, r), append(hits, best[i] >= tau)
			nm++
		case !mated && nn < k:
			rows, hits = append(rows, r), append(hits, best[i] >= tau)
			nn++
		}
	}
	t.Logf("%s -> %s: probes %v, plaintext answers %v (%d candidates within tau ± %.2f skipped)", q.name, partner, rows, hits, skipped, margin)
	return rows, hits
}

// bestScores returns each probe's best protected score against the gallery, protected by the
// querier's node (`puente protect`) under the agreement's current epoch.
func (s *scenario) bestScores(t *testing.T, q *node, partner string, gallery, probes []int) []float64 {
	t.Helper()
	g := filepath.Join(s.dir, "plain-gallery.json")
	p := filepath.Join(s.dir, "plain-probes.json")
	must(t, "protect", "-home", q.home, "-partner", partner, s.file(t, "g.npy", gallery), g)
	must(t, "protect", "-home", q.home, "-partner", partner, s.file(t, "p.npy", probes), p)
	pg, pp := readProtected(t, g), readProtected(t, p)
	out := make([]float64, len(pp))
	start := time.Now()
	for i, v := range pp {
		out[i] = -2
		for _, w := range pg {
			out[i] = max(out[i], protect.Dot(v, w))
		}
	}
	t.Logf("plaintext scan of the same protected gallery (%d entries): %v per probe", len(pg), time.Since(start)/time.Duration(len(pp)))
	return out
}

// search runs `puente search -json` for the rows and checks each decision against want.
func (s *scenario) search(t *testing.T, q *node, partner string, rows []int, want []bool, what string) []matchLine {
	t.Helper()
	out := must(t, "search", "-home", q.home, "-partner", partner, "-json", s.file(t, "probes.npy", rows))
	ls := parseLines(t, out)
	if len(ls) != len(rows) {
		t.Fatalf("%s: %d results for %d probes", what, len(ls), len(rows))
	}
	for i, l := range ls {
		if l.Error != "" || l.Hit != want[i] {
			t.Errorf("%s: probe %d (row %d): hit %v (error %q), plaintext answer %v", what, i, rows[i], l.Hit, l.Error, want[i])
		}
		t.Logf("%s: row %d hit=%v %dms sent %d B received %d B", what, rows[i], l.Hit, l.ElapsedMS, l.Sent, l.Received)
	}
	return ls
}

var ceremonyLine = regexp.MustCompile(`(\d+) key-share exchanges, (\d+) bytes sent, (\d+) bytes received, (\S+)`)

// TestEndToEnd is the main scenario over real processes: two nodes with their own keys and
// certificates run the key ceremony, enrol real protected templates (LFW dlib-128), and search
// and verify each other's galleries; decisions must equal the plaintext answers. Then a node
// restarts and is searched again, and a revocation makes old protected probes miss.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := loadScenario(t, dir)
	us, co := startPair(t, dir, e2eParams())
	ceremony(t, us, co)
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", "-labels", filepath.Join(dir, "labels-co.tsv"), s.file(t, "gal-co.npy", s.galCO))
	must(t, "enroll", "-home", us.home, "-partner", "co-migracion", s.file(t, "gal-us.npy", s.galUS))

	// Search both ways, against the plaintext answers.
	k := 1
	rowsUS, wantUS := s.probes(t, us, "co-migracion", s.galCO, k)
	s.search(t, us, "co-migracion", rowsUS, wantUS, "us-cbp searches co-migracion")
	rowsCO, wantCO := s.probes(t, co, "us-cbp", s.galUS, k)
	s.search(t, co, "us-cbp", rowsCO, wantCO, "co-migracion searches us-cbp")

	// Verify (1:1) against the reference co-migracion gave for the mated probe's identity.
	s.verify(t, us, co, rowsUS[0], filepath.Join(dir, "labels-co.tsv"))

	// A restart: the responder's keys, gallery, quota and nonces come back from its files.
	co.stop(t)
	co.start(t)
	s.search(t, us, "co-migracion", rowsUS[:1], wantUS[:1], "after co-migracion restarted")

	// Revocation: templates protected under the old epoch are refused before they are sent.
	old := filepath.Join(dir, "old-protected.json")
	must(t, "protect", "-home", us.home, "-partner", "co-migracion", s.file(t, "mated.npy", rowsUS[:1]), old)
	out := must(t, "revoke", "-home", us.home, "-partner", "co-migracion")
	if !strings.Contains(out, "new epoch 2") {
		t.Fatalf("revoke: %s", out)
	}
	waitGalleryEpoch(t, co, 2)
	if r, err := try("search", "-home", us.home, "-partner", "co-migracion", "-protected", "-json", old); err == nil ||
		!strings.Contains(r, "made under epoch 1") {
		t.Errorf("an old protected probe after revocation: %s %v, want refused as made under epoch 1", r, err)
	}
	rows2, want2 := s.probes(t, us, "co-migracion", s.galCO, 1)
	s.search(t, us, "co-migracion", rows2, want2, "after revocation")
	for _, n := range []*node{us, co} {
		if files, _ := filepath.Glob(filepath.Join(n.home, "he", "us-co", "e1-*")); len(files) != 0 {
			t.Errorf("%s still holds epoch 1's evaluation keys: %v", n.name, files)
		}
	}

	us.stop(t)
	co.stop(t)
	for _, n := range []*node{us, co} {
		out := must(t, "audit", "verify", "-home", n.home)
		t.Logf("%s: %s", n.name, strings.SplitN(out, "\n", 2)[0])
	}
}

// startPair makes, links and starts the two agencies' nodes.
func startPair(t *testing.T, dir, params string) (*node, *node) {
	t.Helper()
	us, co := newNode(t, dir, "us-cbp"), newNode(t, dir, "co-migracion")
	ag := agreement{id: "us-co", params: params, quota: "1000 per 24h", tau: tau}
	link(t, us, co, ag)
	link(t, co, us, ag)
	us.start(t)
	co.start(t)
	return us, co
}

// ceremony runs the key ceremony from q with r and logs what it cost.
func ceremony(t *testing.T, q, r *node) {
	t.Helper()
	start := time.Now()
	out := must(t, "ceremony", "-home", q.home, "-partner", r.name)
	m := ceremonyLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ceremony output: %s", out)
	}
	t.Logf("ceremony: %s exchanges, %s bytes sent, %s received, %s (command %s)", m[1], m[2], m[3], m[4], time.Since(start).Round(time.Millisecond))
}

// TestRealParameters runs the key ceremony and Search, mated and non-mated, over two processes
// on the real parameter set (N = 2^15, 128-bit security), against the plaintext answers.
func TestRealParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the ceremony and a search over two processes on the production parameter set")
	}
	dir := t.TempDir()
	s := loadScenario(t, dir)
	us, co := startPair(t, dir, realParams)
	ceremony(t, us, co)
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", s.file(t, "gal-co.npy", s.galCO))
	rows, want := s.probes(t, us, "co-migracion", s.galCO, 1)
	s.search(t, us, "co-migracion", rows, want, "us-cbp searches co-migracion ("+realParams+")")
}

// verify runs `puente verify` of the mated probe against its identity's reference, and of a
// non-mated probe against the same reference, each against the plaintext score.
func (s *scenario) verify(t *testing.T, q, r *node, mated int, labels string) {
	t.Helper()
	ref := s.identityOf[s.set.Label[mated]]
	b, err := os.ReadFile(labels)
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, g := range s.galCO {
		if g == ref {
			idx = i
		}
	}
	var label string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 2 && f[0] == "row-"+strconv.Itoa(idx) {
			label = f[1]
		}
	}
	if label == "" {
		t.Fatalf("no label for gallery row %d", idx)
	}
	probes := []int{mated, s.nonMated[0]}
	best := s.bestScores(t, q, r.name, []int{ref}, probes)
	out := must(t, "verify", "-home", q.home, "-partner", r.name, "-reference", label, "-json", s.file(t, "v.npy", probes))
	for i, l := range parseLines(t, out) {
		if math.Abs(best[i]-tau) < margin {
			t.Logf("verify probe %d: plaintext score %.4f within the band, not checked", i, best[i])
			continue
		}
		if l.Hit != (best[i] >= tau) {
			t.Errorf("verify probe %d: hit %v, plaintext score %.4f", i, l.Hit, best[i])
		}
	}
}

// waitGalleryEpoch waits until the node reports its gallery re-protected under epoch (it does
// so in the background after the ceremony's Commit).
func waitGalleryEpoch(t *testing.T, n *node, epoch int) {
	t.Helper()
	for i := 0; i < 600; i++ {
		var st struct {
			Partners []struct {
				Epoch        uint64 `json:"epoch"`
				GalleryEpoch uint64 `json:"gallery_epoch"`
			} `json:"partners"`
		}
		if err := json.Unmarshal([]byte(must(t, "status", "-home", n.home, "-json")), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Partners) > 0 && st.Partners[0].Epoch == uint64(epoch) && st.Partners[0].GalleryEpoch == uint64(epoch) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never reached epoch %d", n.name, epoch)
}
