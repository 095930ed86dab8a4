// Command wyckoffeval measures the Wyckoff engine on planted schematics and
// random walks (shared/wyckoff/schematic) and prints recall, precision and
// false events per 1,000 bars (make eval). It exits 1 when a goal is missed.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoff/schematic"
)

func main() {
	n := flag.Int("n", 250, "schematics of each kind")
	walk := flag.Int("walk", 500000, "random-walk bars")
	seed := flag.Uint64("seed", 1, "first seed")
	flag.Parse()
	r, err := schematic.Evaluate(*n, *walk, *seed, wyckoff.DefaultParams())
	if err != nil {
		fmt.Fprintln(os.Stderr, "wyckoffeval:", err)
		os.Exit(2)
	}
	r.Write(os.Stdout)
	if f := r.Failures(); len(f) > 0 {
		fmt.Println("\ngoals missed:")
		for _, m := range f {
			fmt.Println("  -", m)
		}
		os.Exit(1)
	}
	fmt.Println("\nall goals met")
}
