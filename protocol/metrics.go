package protocol

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/internal/metricsrv"
)

// Metrics are a node's Prometheus metrics. Labels name partners, methods, roles, outcomes and
// decisions, never a subject, score or key. Decisions are counted on the querier's side only,
// the one side that learns them.
type Metrics struct {
	Registry    *prometheus.Registry
	queries     *prometheus.CounterVec   // partner, method, role, outcome
	decisions   *prometheus.CounterVec   // partner, method, decision
	latency     *prometheus.HistogramVec // method, role
	quotaRefuse *prometheus.CounterVec   // partner
	bytes       *prometheus.CounterVec   // partner, direction
	shardCalls  *prometheus.CounterVec   // shard, call, code
	shardTime   *prometheus.HistogramVec // shard, call
	batches     prometheus.Histogram     // Search calls per evaluation
	halts       *prometheus.GaugeVec     // partner
}

// NewMetrics makes the metrics in a registry of their own, with the Go runtime and process
// collectors.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_queries_total",
			Help: "Search and Verify calls by partner, method, this node's role and outcome (answered, refused, failed)."},
			[]string{"partner", "method", "role", "outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_decisions_total",
			Help: "Decisions this node learned as the querier, by partner, method and decision (hit, no-hit)."},
			[]string{"partner", "method", "decision"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "puente_query_duration_seconds",
			Help:    "Time from the first message to the last of answered Search and Verify calls, by method and role.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}, []string{"method", "role"}),
		quotaRefuse: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_quota_refusals_total",
			Help: "Queries refused because the partner's quota in the key policy was spent."}, []string{"partner"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_protocol_bytes_total",
			Help: "HE object bytes sent and received, by partner and direction (sent, received)."}, []string{"partner", "direction"}),
		shardCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_shard_calls_total",
			Help: "Calls of this node to its shards, by shard index, call (count, install) and status code (OK, Unavailable, FailedPrecondition, ...)."},
			[]string{"shard", "call", "code"}),
		shardTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "puente_shard_call_seconds",
			Help:    "Wall time of this node's successful calls to its shards, by shard index and call.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12)}, []string{"shard", "call"}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "puente_search_batch_calls",
			Help:    "Search calls evaluated together (waiting calls of one partner answered in one batch), per evaluation.",
			Buckets: prometheus.LinearBuckets(1, 1, 16)}),
		halts: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "puente_partner_halted",
			Help: "1 while this node's queries to the partner are halted, because an answer of the partner did not open (it deviated from the protocol) or, unproved, because a rebuild of the state file found a query to it left pending; else 0."},
			[]string{"partner"}),
	}
	r.MustRegister(m.queries, m.decisions, m.latency, m.quotaRefuse, m.bytes, m.shardCalls, m.shardTime, m.batches, m.halts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) query(partner, method, role, outcome string, d time.Duration) {
	m.queries.WithLabelValues(partner, method, role, outcome).Inc()
	if outcome == "answered" {
		m.latency.WithLabelValues(method, role).Observe(d.Seconds())
	}
}

func (m *Metrics) decision(partner, method string, hit bool) {
	d := "no-hit"
	if hit {
		d = "hit"
	}
	m.decisions.WithLabelValues(partner, method, d).Inc()
}

func (m *Metrics) traffic(partner string, sent, received int64) {
	m.bytes.WithLabelValues(partner, "sent").Add(float64(sent))
	m.bytes.WithLabelValues(partner, "received").Add(float64(received))
}

// batch records one evaluation of k waiting Search calls.
func (m *Metrics) batch(k int) { m.batches.Observe(float64(k)) }

func (m *Metrics) halted(partner string, on bool) {
	v := 0.0
	if on {
		v = 1
	}
	m.halts.WithLabelValues(partner).Set(v)
}

// shardCall records one call to shard i (shard.Observer).
func (m *Metrics) shardCall(i int, call string, code codes.Code, d time.Duration) {
	idx := strconv.Itoa(i)
	m.shardCalls.WithLabelValues(idx, call, code.String()).Inc()
	if code == codes.OK {
		m.shardTime.WithLabelValues(idx, call).Observe(d.Seconds())
	}
}

// ServeMetrics serves the metrics at /metrics on addr until ctx is done.
func (m *Metrics) ServeMetrics(ctx context.Context, addr string) error {
	return metricsrv.Serve(ctx, addr, m.Registry)
}
