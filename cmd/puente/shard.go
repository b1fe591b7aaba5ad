package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/shard"
)

func init() {
	register(&command{name: "shard", summary: "run a shard: one partition of a node's gallery and the public evaluation keys, counting for the node over gRPC/mTLS",
		usage:    "-dir DIR -listen ADDR -tls-cert FILE -tls-key FILE -tls-ca FILE [-workers N] [-log-level LEVEL] [-health-listen ADDR] [-metrics-listen ADDR]",
		examples: []string{"puente shard -dir /var/lib/puente-shard -listen :7443 -tls-cert /etc/puente-shard/tls.crt -tls-key /etc/puente-shard/tls.key -tls-ca /etc/puente-shard/ca.crt"},
		run:      runShard})
}

func runShard(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := fs.String("dir", "", "directory of the shard's partitions (a persistent volume)")
	listen := fs.String("listen", ":7443", "address to serve the shard protocol on")
	var tf shard.TLSFiles
	fs.StringVar(&tf.Cert, "tls-cert", "", "the shard's TLS certificate (PEM), issued by the agency's shard CA")
	fs.StringVar(&tf.Key, "tls-key", "", "the shard's TLS key (PEM)")
	fs.StringVar(&tf.CA, "tls-ca", "", "the agency's shard CA (PEM): the node's client certificate must chain to it")
	workers := fs.Int("workers", 0, "goroutines of one count (0: GOMAXPROCS)")
	budget := fs.Int64("memory-budget", -1, "bytes of ready NTT plaintexts per partition (-1: no bound, 0: none)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	healthAddr := fs.String("health-listen", "", "address of a plaintext gRPC health service for probes (empty: none)")
	metricsAddr := fs.String("metrics-listen", "", "address of the Prometheus metrics endpoint (empty: none)")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("shard takes no arguments, got %q", rest[0])
	}
	if *dir == "" || tf.Cert == "" || tf.Key == "" || tf.CA == "" {
		return usagef("-dir, -tls-cert, -tls-key and -tls-ca are required")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("-log-level: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(st.err, &slog.HandlerOptions{Level: lv}))
	tc, err := tf.ServerTLS()
	if err != nil {
		return err
	}
	met := shard.NewMetrics()
	s, err := shard.NewServer(shard.Config{Dir: *dir, Lookup: home.LookupParams, Workers: *workers, MemoryBudget: *budget, Log: log, Metrics: met})
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		go func() {
			if err := met.Serve(ctx, *metricsAddr); err != nil {
				log.Error("metrics endpoint stopped", "addr", *metricsAddr, "err", err)
			}
		}()
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	if *healthAddr != "" {
		if _, err := serveHealth(ctx, *healthAddr, "puente.shard.v1.ShardService"); err != nil {
			return err
		}
	}
	g := grpc.NewServer(append(s.ServerOptions(), grpc.Creds(credentials.NewTLS(tc)), grpc.MaxRecvMsgSize(shard.MaxMessage), grpc.MaxSendMsgSize(shard.MaxMessage))...)
	s.Register(g)
	go func() {
		<-ctx.Done()
		s.Shutdown()
		g.GracefulStop()
	}()
	fmt.Fprintf(st.out, "shard serving on %s\n", lis.Addr())
	if f, ok := st.out.(*os.File); ok {
		f.Sync()
	}
	return g.Serve(lis)
}
