package main

// rows is the table make bench prints, in this order. Rows whose unit starts
// with cpu- read the process's CPU time per op, which the benchmark reports
// next to wall time (see cpuTime in shared/candle's benchmarks): on a shared
// machine other work inflates it far less than wall time. To add a row, add a
// benchmark that reports the metric (b.ReportMetric, or ns/op) for ours and,
// when there is one, for the baseline, in the same run; then add a line
// here. Names are as go test prints them, without the -N suffix. The
// benchmarks of each package run once, together, for all its rows.
var rows = []row{
	// Encoder (shared/candle): 10,000 RSI-like values, shortest digits.
	{Label: "encoder, default precision (shortest round-trip)", Pkg: "./shared/candle",
		Ours: "BenchmarkEncodeDigits/precision=0", Baseline: "BenchmarkEncodeDigits/encoding-json", Metric: "cpu-ns/value",
		Goal: goal{MaxOurs: 35}},
	{Label: "encoder, precision=10", Pkg: "./shared/candle",
		Ours: "BenchmarkEncodeDigits/precision=10", Baseline: "BenchmarkEncodeDigits/encoding-json", Metric: "cpu-ns/value",
		Goal: goal{MaxOurs: 25}},
	{Label: "encode a 10k RSI response (meta included)", Pkg: "./shared/candle",
		Ours: "BenchmarkEncode/candle", Baseline: "BenchmarkEncode/std", Metric: "ns/value"},
	{Label: "decode 10k candles, JSON rows", Pkg: "./shared/candle",
		Ours: "BenchmarkDecode/rows/candle", Baseline: "BenchmarkDecode/rows/std", Metric: "ns/candle"},
	{Label: "decode 10k candles, CSV", Pkg: "./shared/candle",
		Ours: "BenchmarkDecode/csv/candle", Baseline: "BenchmarkDecode/csv/std", Metric: "ns/candle"},

	// Request path (shared/indicatorapi): decode, compute, encode, 10k candles.
	{Label: "request: one RSI vs encoding/json", Pkg: "./shared/indicatorapi",
		Ours: "BenchmarkRequestPath/single/ours", Baseline: "BenchmarkRequestPath/single/encoding-json", Metric: "cpu-ns/op"},
	{Label: "request: batch of 10 vs encoding/json", Pkg: "./shared/indicatorapi",
		Ours: "BenchmarkRequestPath/batch10/ours", Baseline: "BenchmarkRequestPath/batch10/encoding-json", Metric: "cpu-ns/op"},
	{Label: "request: batch of 10 vs one RSI, default precision", Pkg: "./shared/indicatorapi",
		Ours: "BenchmarkRequestPath/batch10/ours", Baseline: "BenchmarkRequestPath/single/ours", Metric: "cpu-ns/op"},
	{Label: "request: batch of 10 vs one RSI, precision=10", Pkg: "./shared/indicatorapi",
		Ours: "BenchmarkRequestPath/batch10-precision10/ours", Baseline: "BenchmarkRequestPath/single-precision10/ours",
		Metric: "cpu-ns/op", Goal: goal{MaxRatio: 3}},

	// Indicator engine (shared/indicator) vs go-talib, 100k candles.
	{Label: "SMA(20) vs go-talib", Pkg: "./shared/indicator", Ours: "BenchmarkSMA/ours", Baseline: "BenchmarkSMA/go-talib", Metric: "ns/candle"},
	{Label: "EMA(20) vs go-talib", Pkg: "./shared/indicator", Ours: "BenchmarkEMA/ours", Baseline: "BenchmarkEMA/go-talib", Metric: "ns/candle"},
	{Label: "RSI(14) vs go-talib", Pkg: "./shared/indicator", Ours: "BenchmarkRSI/ours", Baseline: "BenchmarkRSI/go-talib", Metric: "ns/candle"},
	{Label: "MACD(12,26,9) vs go-talib", Pkg: "./shared/indicator", Ours: "BenchmarkMACD/ours", Baseline: "BenchmarkMACD/go-talib", Metric: "ns/candle"},
	{Label: "BBANDS(20,2) vs go-talib", Pkg: "./shared/indicator", Ours: "BenchmarkBBANDS/ours", Baseline: "BenchmarkBBANDS/go-talib", Metric: "ns/candle"},
	{Label: "ATR(14) vs go-talib", Pkg: "./shared/indicator", Ours: "BenchmarkATR/ours", Baseline: "BenchmarkATR/go-talib", Metric: "ns/candle"},
	{Label: "ADX(14) (+DI, -DI too) vs go-talib ADX", Pkg: "./shared/indicator", Ours: "BenchmarkADX/ours", Baseline: "BenchmarkADX/go-talib", Metric: "ns/candle"},

	// Wyckoff (shared/wyckoff): the whole analysis of 50k candles vs RSI(14).
	{Label: "Wyckoff analysis vs RSI(14), 50k candles", Pkg: "./shared/wyckoff",
		Ours: "BenchmarkWyckoff/analysis", Baseline: "BenchmarkWyckoff/rsi14", Metric: "ns/candle", Goal: goal{MaxRatio: 10}},

	// MCP (shared/mcpapi): the same RSI request on 10k candles through the MCP
	// endpoint and the HTTP one; the token cost of tools/list with one
	// compute_indicator tool and with one tool per indicator family.
	{Label: "MCP tools/call vs HTTP endpoint, one RSI, 10k candles", Pkg: "./shared/mcpapi",
		Ours: "BenchmarkMCPPath/mcp", Baseline: "BenchmarkMCPPath/http", Metric: "cpu-ns/op", Goal: goal{MaxRatio: 1.3}},
	// The same two requests sent in turn in one loop: their CPU time ratio,
	// which a busy machine disturbs far less than two separate runs.
	{Label: "MCP tools/call / HTTP endpoint, paired calls, one RSI, 10k candles", Pkg: "./shared/mcpapi",
		Ours: "BenchmarkMCPPath/paired", Metric: "x-http", Goal: goal{MaxOurs: 1.3}},
	{Label: "MCP tools/list tokens: compute_indicator vs one tool per family", Pkg: "./shared/mcpapi",
		Ours: "BenchmarkToolsList/compute_indicator", Baseline: "BenchmarkToolsList/per_family", Metric: "tokens"},

	// Per-request key work (no baseline).
	{Label: "authorizer, store in memory", Pkg: "./shared/authorizer", Ours: "BenchmarkAuthorize", Metric: "ns/op"},
	{Label: "authorizer with the SDK's work", Pkg: "./shared/authorizer", Ours: "BenchmarkAuthorizeSDK", Metric: "ns/op"},
	{Label: "API key check and hash", Pkg: "./shared/apikey", Ours: "BenchmarkCheckAndHash", Metric: "ns/op"},
}
