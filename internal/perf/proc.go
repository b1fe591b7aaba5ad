package perf

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/puente-id/puente/he"
)

// PeakScope says what a reported peak RSS covers.
type PeakScope string

const (
	// PeakOwn: the high-water mark was reset before the measurement, so
	// the peak is the measurement's own (plus what the process already
	// held: keys, the runtime).
	PeakOwn PeakScope = "measurement"
	// PeakProcess: the mark could not be reset; the peak is the process's
	// since it started.
	PeakProcess PeakScope = "process"
	// PeakUnknown: the system does not report it.
	PeakUnknown PeakScope = "unknown"
)

// PeakRSS returns the process's resident-set high-water mark (VmHWM of
// /proc/self/status) in bytes, and whether the system reported it.
func PeakRSS() (int64, bool) {
	return statusKB("VmHWM:")
}

// RSS returns the process's current resident set (VmRSS) in bytes.
func RSS() (int64, bool) {
	return statusKB("VmRSS:")
}

func statusKB(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	return parseStatusKB(b, field)
}

// parseStatusKB finds "field <n> kB" in the text of /proc/self/status.
func parseStatusKB(status []byte, field string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, field) {
			continue
		}
		f := strings.Fields(line[len(field):])
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > math.MaxInt64>>10 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// ResetPeakRSS returns freed memory to the system and resets the
// high-water mark to the current resident set, so that the next PeakRSS
// is the peak of what follows. It reports the scope the next peak has.
func ResetPeakRSS() PeakScope {
	runtime.GC()
	debug.FreeOSMemory()
	if _, ok := PeakRSS(); !ok {
		return PeakUnknown
	}
	// "5" resets the peak RSS (proc(5), clear_refs, Linux 4.0 and later).
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return PeakProcess
	}
	return PeakOwn
}

// Clock reads wall-clock and CPU time together.
type Clock struct {
	wall time.Time
	cpu  time.Duration
}

// Start returns a clock started now.
func Start() Clock {
	cpu, _ := CPUTime()
	return Clock{wall: time.Now(), cpu: cpu}
}

// Elapsed returns the wall-clock and CPU time since the clock started.
func (c Clock) Elapsed() (wall, cpu time.Duration) {
	now, _ := CPUTime()
	return time.Since(c.wall), now - c.cpu
}

// Machine describes where a measurement ran.
type Machine struct {
	GoVersion  string    `json:"go_version"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	CPUModel   string    `json:"cpu_model,omitempty"`
	MemTotal   int64     `json:"mem_total_bytes,omitempty"`
	LoadAvg    []float64 `json:"load_average,omitempty"` // 1, 5 and 15 minutes
	// Arithmetic is how the he package runs its NTTs and key-switch products
	// here (he.Arithmetic): "avx512-ifma" or "go".
	Arithmetic string `json:"arithmetic"`
}

// ThisMachine describes the running machine; the CPU model, memory and
// load average are left empty where /proc does not give them.
func ThisMachine() Machine {
	m := Machine{GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), LoadAvg: LoadAverage(), Arithmetic: he.Arithmetic()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemTotal, _ = parseStatusKB(b, "MemTotal:")
	}
	return m
}

// LoadAverage returns the 1, 5 and 15-minute load averages, or nil.
func LoadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	out := make([]float64, 3)
	for i := range out {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil
		}
		out[i] = v
	}
	return out
}

// MemoryLimit returns Go's soft memory limit (GOMEMLIMIT or
// debug.SetMemoryLimit) in bytes, or 0 when there is none.
func MemoryLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	return 0
}

// HeapLive returns the bytes of heap the last collection found live, after
// a collection (runtime/metrics /gc/heap/live:bytes).
func HeapLive() int64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[0].Value.Uint64())
}
