package protocol

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/puente-id/puente/audit"
)

// TestLogScanHalts checks which halt a scan of the audit log finds in force, for sequences of
// deviated queries (dev), partner-halted records a prune wrote (ph) and resumes (res): the first
// proof since the last resume.
func TestLogScanHalts(t *testing.T) {
	id := func(c string) string { return strings.Repeat(c, 32) }
	const at = "2026-01-01T00:00:00.000000000Z"
	dev := func(q string) *audit.Record {
		return &audit.Record{Kind: audit.KindQuery, Time: at, Event: audit.Event{Partner: "x", Role: audit.RoleQuerier, Purpose: "p", RequestID: id(q), Outcome: audit.OutcomeDeviated}}
	}
	ph := func(q string) *audit.Record {
		return &audit.Record{Kind: audit.KindKey, Time: at, Event: audit.Event{Partner: "x", Action: audit.ActionPartnerHalted, RequestID: id(q)}}
	}
	unres := func(q string) *audit.Record {
		return &audit.Record{Kind: audit.KindKey, Time: at, Event: audit.Event{Partner: "x", Action: audit.ActionPartnerHaltedUnresolved, RequestID: id(q)}}
	}
	res := &audit.Record{Kind: audit.KindKey, Time: at, Event: audit.Event{Partner: "x", Action: audit.ActionPartnerResumed}}
	for name, c := range map[string]struct {
		recs []*audit.Record
		want string
	}{
		"dev1 ph1 res":     {[]*audit.Record{dev("1"), ph("1"), res}, ""},
		"ph1 res":          {[]*audit.Record{ph("1"), res}, ""},
		"ph1 res dev2":     {[]*audit.Record{ph("1"), res, dev("2")}, id("2")},
		"ph1 dev2":         {[]*audit.Record{ph("1"), dev("2")}, id("1")},
		"dev1 res ph1":     {[]*audit.Record{dev("1"), res, ph("1")}, id("1")},
		"ph1 res ph1 res":  {[]*audit.Record{ph("1"), res, ph("1"), res}, ""},
		"dev1 ph2 (first)": {[]*audit.Record{dev("1"), ph("2")}, id("1")},
		"unres1":           {[]*audit.Record{unres("1")}, id("1") + " unresolved"},
		"unres1 dev1":      {[]*audit.Record{unres("1"), dev("1")}, id("1")},
		"unres1 ph1":       {[]*audit.Record{unres("1"), ph("1")}, id("1")},
		"unres1 dev2":      {[]*audit.Record{unres("1"), dev("2")}, id("1") + " unresolved"},
		"ph1 unres2":       {[]*audit.Record{ph("1"), unres("2")}, id("1")},
	} {
		s := newLogScan()
		for _, r := range c.recs {
			if err := s.add(r, ""); err != nil {
				t.Fatal(err)
			}
		}
		got := ""
		if h, ok := s.halted["x"]; ok {
			got = hex.EncodeToString(h.request)
			if h.unresolved {
				got += " unresolved"
			}
		}
		if got != c.want {
			t.Errorf("%s: halted %q, want %q", name, got, c.want)
		}
	}
}
