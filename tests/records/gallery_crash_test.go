//go:build puente_testparams && linux

package records

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGalleryChangeCrashes: an enrolment killed between the gallery's commit and its audit
// record (crash point enrolled-batch), through the running node and offline, and `gallery forget`
// killed before its gallery record (gallery-forgotten-unrecorded), leave the gallery and the log
// agreeing once the node next opens its home: every change of the gallery has exactly one gallery
// record, numbered in order, each total the one before plus what it enrolled minus what it
// removed; the one the crash left unwritten is there marked recovered (and `puente audit verify`
// accepts the log and names it); and no subject reference is in the log.
func TestGalleryChangeCrashes(t *testing.T) {
	t.Parallel()
	for _, running := range []bool{true, false} {
		t.Run(map[bool]string{true: "running", false: "offline"}[running], func(t *testing.T) {
			t.Parallel()
			const subjects = 16
			us, co, data := recordsPairOf(t, subjects, false)
			must(t, "ceremony", "-home", us.home, "-partner", co.name)
			refs, features := filepath.Join(data, "gallery.refs"), filepath.Join(data, "gallery.json")
			enrol := []string{"enroll", "-home", co.home, "-partner", us.name, "-refs", refs, "-batch", "8"}
			crash := "PUENTE_TEST_CRASH=enrolled-batch"
			if running {
				co.stop(t)
				co.env = []string{crash}
				co.start(t)
				if r := runPuente(t, append(enrol, features)...); r.code != 1 {
					t.Fatalf("enrolment with the node crashing after its first batch: exit %d\n%s", r.code, r)
				}
				co.waitCrash(t)
				co.env = nil
				co.start(t)
			} else {
				co.stop(t)
				if r := runPuenteEnv(t, []string{crash}, append(enrol, features)...); r.code != -1 {
					t.Fatalf("enrolment crashing after its first batch: exit %d, want killed\n%s", r.code, r)
				}
			}
			if out := must(t, append(enrol, "-resume", features)...); !strings.Contains(out, "holds 16") {
				t.Fatalf("resumed enrolment: %s", out)
			}
			co.stop(t)
			checkGalleryRecords(t, co, us.name, refs, subjects, "gallery-enrolled")

			// The gallery lost, and `gallery forget` killed before its gallery record.
			if err := os.Remove(filepath.Join(co.home, "gallery", "us-co.db")); err != nil {
				t.Fatal(err)
			}
			args := []string{"gallery", "forget", "-home", co.home, "-partner", us.name}
			if r := runPuenteEnv(t, []string{"PUENTE_TEST_CRASH=gallery-forgotten-unrecorded"}, args...); r.code != -1 {
				t.Fatalf("gallery forget crashing before its record: exit %d, want killed\n%s", r.code, r)
			}
			co.start(t)
			co.stop(t)
			checkGalleryRecords(t, co, us.name, refs, 0, "gallery-enrolled", "gallery-forgotten")
		})
	}
}

// checkGalleryRecords checks the gallery records of partner in n's log (n stopped): changes
// numbered 1, 2, ... in order (from 0 again after a forgotten gallery), each total the one
// before plus its enrolled minus its removed, the last total want; those marked recovered of
// the actions recovered, in order, the last listed by `puente audit verify`; and no line of refs
// in the log.
func checkGalleryRecords(t *testing.T, n *node, partner, refs string, want uint64, recovered ...string) {
	t.Helper()
	var change, total uint64
	var marked []string
	for _, r := range auditLog(t, n) {
		if r.Kind != "gallery" {
			continue
		}
		g := r.Gallery
		switch {
		case r.Partner != partner || g == nil:
			t.Fatalf("gallery record %d: partner %q, counts %v", r.Seq, r.Partner, g)
		case r.Action == "gallery-forgotten":
			if g.Removed != total {
				t.Errorf("gallery record %d: forgotten, removing %d of the %d subjects", r.Seq, g.Removed, total)
			}
			change, total = 0, 0
		case g.Change != change+1 || g.Total != total+g.Enrolled-g.Removed:
			t.Errorf("gallery record %d: change %d, total %d (+%d -%d), after change %d with %d subjects",
				r.Seq, g.Change, g.Total, g.Enrolled, g.Removed, change, total)
			change, total = g.Change, g.Total
		default:
			change, total = g.Change, g.Total
		}
		if r.Recovered {
			marked = append(marked, r.Action)
		}
	}
	if total != want {
		t.Errorf("the last gallery record leaves %d subjects, want %d", total, want)
	}
	if strings.Join(marked, " ") != strings.Join(recovered, " ") {
		t.Errorf("records marked recovered: %v, want %v (the records the crashes left unwritten)", marked, recovered)
	}
	out := must(t, "audit", "verify", "-home", n.home)
	last := recovered[len(recovered)-1]
	if !strings.Contains(out, "recovered") || !strings.Contains(out, last+" partner "+partner) {
		t.Errorf("audit verify does not name the recovered %s record:\n%s", last, out)
	}
	log, err := os.ReadFile(filepath.Join(n.home, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range fileLines(t, refs) {
		if bytes.Contains(log, []byte(ref)) {
			t.Errorf("the audit log holds subject reference %d", i)
		}
	}
}
