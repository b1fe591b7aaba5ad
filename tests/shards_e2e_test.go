//go:build puente_testparams

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/puente-id/puente/shard/shardtest"
)

// statusJSON is the part of `puente status -json` the sharded test reads.
type statusJSON struct {
	Partners []struct {
		QuotaUsed int `json:"quota_used"`
	} `json:"partners"`
	Shards []struct {
		Address    string `json:"address"`
		Serving    bool   `json:"serving"`
		Error      string `json:"error"`
		Epoch      uint64 `json:"epoch"`
		Generation uint64 `json:"generation"`
		Entries    uint64 `json:"entries"`
	} `json:"shards"`
}

// TestShardedEndToEnd: the responder's node (co-migracion) moves its gallery to four `puente
// shard` processes; the querier's searches decide as they did against the single process; the
// partner's protocol is unchanged. A shard killed (SIGKILL) while it counts makes the search
// fail with an error, never a no-hit; after its restart searches succeed again.
func TestShardedEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("two nodes and four shard processes")
	}
	dir := t.TempDir()
	s := loadScenario(t, dir)
	us, co := startPair(t, dir, e2eParams())
	ceremony(t, us, co)
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", s.file(t, "gal-co.npy", s.galCO))
	rows, want := s.probes(t, us, "co-migracion", s.galCO, 2)
	single := s.search(t, us, "co-migracion", rows, want, "single process")

	// Four shards, and co-migracion's configuration names them.
	srv, cli := shardtest.PKI(t, dir)
	var procs []*shardtest.Proc
	var addrs []string
	for i := 0; i < 4; i++ {
		p := &shardtest.Proc{Bin: puente, Dir: filepath.Join(dir, fmt.Sprintf("shard-%d", i)), TLS: srv}
		p.Start(t)
		procs, addrs = append(procs, p), append(addrs, fmt.Sprintf("%q", p.Addr))
	}
	co.stop(t)
	f, err := os.OpenFile(filepath.Join(co.home, "puente.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\nshards {\n  addresses = [%s]\n  timeout = \"300s\"\n  tls {\n    cert = %q\n    key = %q\n    ca = %q\n  }\n}\n",
		strings.Join(addrs, ", "), cli.Cert, cli.Key, cli.CA)
	f.Close()
	co.start(t)

	sharded := s.search(t, us, "co-migracion", rows, want, "4 shards")
	for i := range sharded {
		if sharded[i].Hit != single[i].Hit || sharded[i].Error != "" {
			t.Errorf("probe %d: sharded hit=%v (error %q), single process hit=%v", i, sharded[i].Hit, sharded[i].Error, single[i].Hit)
		}
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(must(t, "status", "-home", co.home, "-json")), &st); err != nil {
		t.Fatal(err)
	}
	total := uint64(0)
	for _, sh := range st.Shards {
		if !sh.Serving || sh.Error != "" || sh.Epoch != 1 {
			t.Errorf("status: shard %+v", sh)
		}
		total += sh.Entries
	}
	if len(st.Shards) != 4 || total != uint64(len(s.galCO)) {
		t.Errorf("status lists %d shards holding %d entries; want 4 holding the %d enrolled", len(st.Shards), total, len(s.galCO))
	}

	// SIGKILL of a shard while it counts: an error, never a no-hit.
	victim := procs[1]
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := try("search", "-home", us.home, "-partner", "co-migracion", "-json", s.file(t, "one.npy", rows[:1]))
		done <- result{out, err}
	}()
	<-victim.Counting
	victim.Kill()
	r := <-done
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var m matchLine
		if json.Unmarshal([]byte(l), &m) == nil && m.Error == "" {
			t.Fatalf("search with a shard killed answered hit=%v: %s", m.Hit, l)
		}
	}
	if r.err == nil && !strings.Contains(r.out, "error") {
		t.Fatalf("search with a shard killed: no error: %s", r.out)
	}
	t.Logf("search with a shard killed: %v %s", r.err, strings.TrimSpace(r.out))
	// The failed query is audited as failed and gives its quota back: only the 2·len(rows)
	// answered searches count.
	var st2 statusJSON
	if err := json.Unmarshal([]byte(must(t, "status", "-home", co.home, "-json")), &st2); err != nil {
		t.Fatal(err)
	}
	if len(st2.Partners) != 1 || st2.Partners[0].QuotaUsed != 2*len(rows) {
		t.Errorf("after the failed search co-migracion counts %+v queries of us-cbp's quota, want %d", st2.Partners, 2*len(rows))
	}
	if b, err := os.ReadFile(filepath.Join(co.home, "audit.log")); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(string(b), `"shards-installed"`) || !strings.Contains(string(b), `"failed"`) {
		t.Errorf("co-migracion's audit log records no shard install or no failed query")
	}

	// Restarted on its address, with its partition on disk: searches succeed.
	victim.Start(t)
	again := s.search(t, us, "co-migracion", rows[:1], want[:1], "after the shard restarted")
	if again[0].Hit != single[0].Hit {
		t.Errorf("after restart: hit=%v, single process %v", again[0].Hit, single[0].Hit)
	}
	us.stop(t)
	co.stop(t)
	must(t, "audit", "verify", "-home", co.home)
}
