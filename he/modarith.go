package he

import "math/bits"

// Arithmetic modulo q < 2^63 on the answer's secrets (masks, MAC keys,
// decryption shares) without a branch or a division on their values: a
// hardware division takes time that depends on its operands on many
// processors.

// condSub returns x - q if x >= q and x otherwise, for x < 2q.
func condSub(x, q uint64) uint64 {
	d, borrow := bits.Sub64(x, q, 0)
	return d ^ ((d ^ x) & -borrow)
}

// addMod returns a + b mod q for a, b < q.
func addMod(a, b, q uint64) uint64 { return condSub(a+b, q) }

// mulMod returns a·b mod q for any a and b: the 128-bit product reduced one
// bit at a time, most significant first (128 shifts and conditional
// subtractions whatever the operands).
func mulMod(a, b, q uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	var r uint64 // r < q throughout, so 2r + 1 < 2q < 2^64
	for i := 63; i >= 0; i-- {
		r = condSub(r<<1|hi>>uint(i)&1, q)
	}
	for i := 63; i >= 0; i-- {
		r = condSub(r<<1|lo>>uint(i)&1, q)
	}
	return r
}

// reduce returns x mod q.
func reduce(x, q uint64) uint64 { return mulMod(x, 1, q) }
