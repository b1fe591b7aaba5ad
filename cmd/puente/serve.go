package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/operator"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "serve", summary: "run the node: answer partners over gRPC/mTLS, serve metrics and the operator socket",
		usage: "[-home DIR] [-config FILE] [-log-level debug|info|warn|error] [-health-listen ADDR]",
		examples: []string{"puente serve -home /var/lib/puente",
			"puente serve -config /etc/puente/puente.hcl -log-level debug"},
		run: runServe})
}

func runServe(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	file := fs.String("config", "", "configuration file (default HOME/puente.hcl)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	healthAddr := fs.String("health-listen", "", "address of a plaintext gRPC health service for probes (empty: none)")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("serve takes no arguments, got %q", rest[0])
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("-log-level: %v", err)
	}
	path := *file
	if path == "" {
		path = configPath(*dir)
	}
	cfg, err := home.LoadConfig(path)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(st.err, &slog.HandlerOptions{Level: lv}))
	n, err := protocol.Open(ctx, cfg, protocol.Options{Logger: log})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen %s: %w", cfg.Listen, err), n.Close())
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.MetricsListen != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Metrics().ServeMetrics(sctx, cfg.MetricsListen); err != nil {
				errs <- fmt.Errorf("metrics %s: %w", cfg.MetricsListen, err)
				stop()
			}
		}()
	}
	if *healthAddr != "" {
		if _, err := serveHealth(sctx, *healthAddr, "puente.v1.MatchService"); err != nil {
			stop()
			return errors.Join(err, n.Close())
		}
	}
	n.SyncShards(sctx)
	// The socket exists before the serving line is printed: whoever waits for the line can
	// connect at once.
	sock := cfg.Path(cfg.AdminSocket)
	adm, err := operator.Listen(sock)
	if err != nil {
		stop()
		return errors.Join(err, n.Close())
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := operator.Serve(sctx, adm, n, n.ShutdownGrace()); err != nil {
			errs <- err
			stop()
		}
	}()
	fmt.Fprintf(st.out, "node %s serving on %s (operator socket %s)\n", cfg.Node, lis.Addr(), sock)
	if f, ok := st.out.(*os.File); ok {
		f.Sync()
	}
	err = n.Serve(sctx, lis)
	stop()
	wg.Wait()
	os.Remove(sock)
	close(errs)
	for e := range errs {
		err = errors.Join(err, e)
	}
	err = errors.Join(err, n.Close())
	log.Info("stopped", "node", cfg.Node)
	return err
}
