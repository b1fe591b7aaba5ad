package shard

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/puente-id/puente/internal/metricsrv"
)

// Metrics are a shard's Prometheus metrics: counts served by outcome and their duration, and the
// entries of each partition held. They carry no reference, template, score or ciphertext.
type Metrics struct {
	Registry *prometheus.Registry
	counts   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	entries  *prometheus.GaugeVec
}

// NewMetrics returns a shard's metrics in a registry of their own.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{Registry: r,
		counts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "puente_shard_counts_total",
			Help: "Partial counts requested of this shard, by agreement and outcome (ok, refused, failed)."}, []string{"agreement", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "puente_shard_count_seconds",
			Help: "Wall time of a partial count.", Buckets: prometheus.ExponentialBuckets(0.5, 2, 12)}, []string{"agreement"}),
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "puente_shard_entries",
			Help: "Entries of the partition held, by agreement."}, []string{"agreement"}),
	}
	r.MustRegister(m.counts, m.duration, m.entries)
	return m
}

func (m *Metrics) count(agreement, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.counts.WithLabelValues(agreement, outcome).Inc()
	if outcome == "ok" {
		m.duration.WithLabelValues(agreement).Observe(d.Seconds())
	}
}

func (m *Metrics) held(agreement string, entries int) {
	if m != nil {
		m.entries.WithLabelValues(agreement).Set(float64(entries))
	}
}

// Serve serves the metrics at http://addr/metrics until ctx ends.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	return metricsrv.Serve(ctx, addr, m.Registry)
}
