package indicator

import (
	"testing"

	talib "github.com/markcheno/go-talib"
)

const benchCandles = 100_000

// benchPair runs the package's indicator (writing into preallocated outputs)
// and go-talib's equivalent on the same 100k-candle random walk, reporting
// ns/candle for each.
func benchPair(b *testing.B, name string, raw map[string]float64, gotalib func(in Input)) {
	in := walk(42, benchCandles, 100)
	spec := mustLookup(b, name)
	p := mustResolve(b, spec, raw)
	out := make([][]float64, len(spec.Outputs))
	for i := range out {
		out[i] = make([]float64, benchCandles)
	}
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := spec.Compute(in, p, out); err != nil {
				b.Fatal(err)
			}
		}
		reportPerCandle(b)
	})
	b.Run("go-talib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			gotalib(in)
		}
		reportPerCandle(b)
	})
}

func reportPerCandle(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCandles, "ns/candle")
}

func BenchmarkSMA(b *testing.B) {
	benchPair(b, "sma", map[string]float64{"period": 20}, func(in Input) { talib.Sma(in.Close, 20) })
}

func BenchmarkEMA(b *testing.B) {
	benchPair(b, "ema", map[string]float64{"period": 20}, func(in Input) { talib.Ema(in.Close, 20) })
}

func BenchmarkRSI(b *testing.B) {
	benchPair(b, "rsi", map[string]float64{"period": 14}, func(in Input) { talib.Rsi(in.Close, 14) })
}

func BenchmarkMACD(b *testing.B) {
	benchPair(b, "macd", map[string]float64{"fast_period": 12, "slow_period": 26, "signal_period": 9},
		func(in Input) { talib.Macd(in.Close, 12, 26, 9) })
}

func BenchmarkBBANDS(b *testing.B) {
	benchPair(b, "bbands", map[string]float64{"period": 20, "std_dev": 2},
		func(in Input) { talib.BBands(in.Close, 20, 2, 2, talib.SMA) })
}

func BenchmarkATR(b *testing.B) {
	benchPair(b, "atr", map[string]float64{"period": 14},
		func(in Input) { talib.Atr(in.High, in.Low, in.Close, 14) })
}

// BenchmarkADX: ours computes adx, plus_di and minus_di; go-talib's Adx
// computes adx alone.
func BenchmarkADX(b *testing.B) {
	benchPair(b, "adx", map[string]float64{"period": 14},
		func(in Input) { talib.Adx(in.High, in.Low, in.Close, 14) })
}
