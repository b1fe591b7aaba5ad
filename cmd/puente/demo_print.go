package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// demoEvent is one line of `puente demo -json`. Fields that do not concern a step are left out.
// Steps: setup, serve (one per node), ceremony, enrol, search (one per probe), verify, stop (one
// per node), done.
type demoEvent struct {
	Step     string `json:"step"`
	Node     string `json:"node,omitempty"`
	Partner  string `json:"partner,omitempty"`
	Dir      string `json:"dir,omitempty"`
	Params   string `json:"he_params,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
	PID      int    `json:"pid,omitempty"`
	Listen   string `json:"listen,omitempty"`

	Epoch     uint64 `json:"epoch,omitempty"`
	Exchanges int    `json:"exchanges,omitempty"`
	Enrolled  int    `json:"enrolled,omitempty"`

	Probe     string   `json:"probe,omitempty"` // "mated" or "non-mated"
	Subject   string   `json:"subject,omitempty"`
	Hit       *bool    `json:"hit,omitempty"`
	Expected  *bool    `json:"expected_hit,omitempty"` // the plaintext answer
	BestScore *float64 `json:"plaintext_score,omitempty"`
	Request   string   `json:"request,omitempty"`

	// HE object bytes the node reports, and bytes the relay counted on the wire, from the
	// step's initiating node to its partner (sent) and back (received).
	HESent   int64 `json:"he_sent_bytes,omitempty"`
	HERecv   int64 `json:"he_received_bytes,omitempty"`
	WireSent int64 `json:"wire_sent_bytes,omitempty"`
	WireRecv int64 `json:"wire_received_bytes,omitempty"`

	AuditRecords int   `json:"audit_records,omitempty"`
	ElapsedMS    int64 `json:"elapsed_ms"`
	AsExpected   *bool `json:"as_expected,omitempty"` // done: every decision equals its plaintext answer
	Kept         bool  `json:"kept,omitempty"`        // done: the working directory was kept
}

// demoOut prints the demo for a reader (numbered steps, a few indented lines each) or, with
// -json, as one demoEvent per line.
type demoOut struct {
	w     io.Writer
	json  bool
	step  int
	steps int
}

// header starts a step.
func (o *demoOut) header(format string, args ...any) {
	o.step++
	if !o.json {
		fmt.Fprintf(o.w, "\n[%d/%d] %s\n", o.step, o.steps, fmt.Sprintf(format, args...))
	}
}

// say prints an indented line of the current step.
func (o *demoOut) say(format string, args ...any) {
	if !o.json {
		fmt.Fprintf(o.w, "      %s\n", fmt.Sprintf(format, args...))
	}
}

// cmd shows the puente command an operator would type for the step.
func (o *demoOut) cmd(format string, args ...any) {
	o.say("$ puente "+format, args...)
}

// plain prints a line outside the steps.
func (o *demoOut) plain(format string, args ...any) {
	if !o.json {
		fmt.Fprintf(o.w, format+"\n", args...)
	}
}

// event writes ev as a JSON line.
func (o *demoOut) event(ev demoEvent) {
	if o.json {
		json.NewEncoder(o.w).Encode(ev)
	}
}

// mb renders a byte count in megabytes (10^6 bytes).
func mb(n int64) string {
	if n < 100_000 {
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/1e6)
}

// secs renders a duration in seconds with one decimal.
func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func decision(hit bool) string {
	if hit {
		return "HIT"
	}
	return "no hit"
}

func ptr[T any](v T) *T { return &v }
