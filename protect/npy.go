package protect

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadNPY reads a 2-D array of feature vectors in the NumPy .npy format,
// versions 1.0 and 2.0 (NumPy Enhancement Proposal 1, "A simple file format
// for NumPy arrays"), with dtype '<f4' or '<f8' in C order. source names the
// input in errors. The result is validated ([Matrix.Validate]).
func ReadNPY(r io.Reader, source string, lim Limits) (*Matrix, error) {
	lim = lim.orDefault()
	br := bufio.NewReader(io.LimitReader(r, lim.MaxBytes+1))
	dtype, rows, cols, err := readNPYHeader(br, source)
	if err != nil {
		return nil, err
	}
	if err := lim.checkShape(source, rows, cols); err != nil {
		return nil, err
	}
	size := 4
	if dtype == "<f8" {
		size = 8
	}
	if int64(rows)*int64(cols)*int64(size) > lim.MaxBytes {
		return nil, inputErr(source, -1, -1, "%d x %d array of %s exceeds the limit of %d bytes", rows, cols, dtype, lim.MaxBytes)
	}
	m := &Matrix{Rows: rows, Cols: cols}
	buf := make([]byte, cols*size)
	for i := 0; i < rows; i++ {
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, inputErr(source, i, -1, "truncated: data ends inside row %d of %d", i, rows)
		}
		for c := 0; c < cols; c++ {
			if size == 4 {
				m.Data = append(m.Data, float64(math.Float32frombits(binary.LittleEndian.Uint32(buf[4*c:]))))
			} else {
				m.Data = append(m.Data, math.Float64frombits(binary.LittleEndian.Uint64(buf[8*c:])))
			}
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, inputErr(source, -1, -1, "trailing bytes after %d x %d array", rows, cols)
	}
	return m, m.Validate(source)
}

const npyMagic = "\x93NUMPY"

func readNPYHeader(br *bufio.Reader, source string) (dtype string, rows, cols int, err error) {
	pre := make([]byte, 8)
	if _, err := io.ReadFull(br, pre); err != nil || string(pre[:6]) != npyMagic {
		return "", 0, 0, inputErr(source, -1, -1, "not a .npy file (no \\x93NUMPY magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		_, err = io.ReadFull(br, b[:])
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		_, err = io.ReadFull(br, b[:])
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return "", 0, 0, inputErr(source, -1, -1, "unsupported .npy version %d.%d", pre[6], pre[7])
	}
	if err != nil || hlen > 1<<16 {
		return "", 0, 0, inputErr(source, -1, -1, "bad .npy header length")
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(br, h); err != nil {
		return "", 0, 0, inputErr(source, -1, -1, "truncated .npy header")
	}
	d, err := parseNPYDict(strings.TrimSpace(string(h)))
	if err != nil {
		return "", 0, 0, &InputError{Source: source, Row: -1, Col: -1, Field: "header", Reason: err.Error()}
	}
	return checkNPYDict(source, d)
}

func checkNPYDict(source string, d map[string]string) (string, int, int, error) {
	fieldErr := func(f, format string, args ...any) error {
		return &InputError{Source: source, Row: -1, Col: -1, Field: f, Reason: fmt.Sprintf(format, args...)}
	}
	dtype, ok := d["descr"]
	switch {
	case !ok:
		return "", 0, 0, fieldErr("descr", "missing")
	case dtype != "<f4" && dtype != "<f8":
		return "", 0, 0, fieldErr("descr", "dtype %q not supported (want '<f4' or '<f8')", dtype)
	}
	if fo := d["fortran_order"]; fo != "False" {
		return "", 0, 0, fieldErr("fortran_order", "%q not supported (want False, C order)", fo)
	}
	shape, ok := d["shape"]
	if !ok {
		return "", 0, 0, fieldErr("shape", "missing")
	}
	dims, err := parseShape(shape)
	if err != nil || len(dims) != 2 {
		return "", 0, 0, fieldErr("shape", "%q is not a 2-D shape (rows, dimension)", shape)
	}
	return dtype, dims[0], dims[1], nil
}

// parseNPYDict parses the header's Python dict literal: string keys, values
// that are strings, True/False or a tuple of integers.
func parseNPYDict(s string) (map[string]string, error) {
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, errors.New("not a dict literal")
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	d := map[string]string{}
	for s != "" {
		key, rest, err := pyString(s)
		if err != nil {
			return nil, err
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("no ':' after key %q", key)
		}
		rest = strings.TrimSpace(rest[1:])
		var val string
		switch {
		case strings.HasPrefix(rest, "'"), strings.HasPrefix(rest, "\""):
			val, rest, err = pyString(rest)
		case strings.HasPrefix(rest, "("):
			i := strings.IndexByte(rest, ')')
			if i < 0 {
				return nil, fmt.Errorf("unterminated tuple for key %q", key)
			}
			val, rest = rest[:i+1], rest[i+1:]
		default:
			i := strings.IndexAny(rest, ",}")
			if i < 0 {
				i = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:i]), rest[i:]
		}
		if err != nil {
			return nil, err
		}
		if _, dup := d[key]; dup {
			return nil, fmt.Errorf("key %q repeated", key)
		}
		d[key] = val
		rest = strings.TrimSpace(rest)
		rest = strings.TrimSpace(strings.TrimPrefix(rest, ","))
		s = rest
	}
	return d, nil
}

func pyString(s string) (val, rest string, err error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') {
		return "", "", errors.New("expected a quoted string")
	}
	i := strings.IndexByte(s[1:], s[0])
	if i < 0 {
		return "", "", errors.New("unterminated string")
	}
	return s[1 : i+1], s[i+2:], nil
}

func parseShape(s string) ([]int, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	var dims []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("bad dimension %q", f)
		}
		dims = append(dims, v)
	}
	return dims, nil
}
