package wyckoff

import "fmt"

// The sentences of the events, built only from the measured values.

func words(dist bool, acc, dis string) string {
	if dist {
		return dis
	}
	return acc
}

func climaxText(dist bool, b *view, movePct float64, bars int, p *Params) string {
	return fmt.Sprintf("volume %.1fx its %d-bar mean on a spread of %.1f ATR, closing %.0f%% of the bar off its %s, after a %.1f%% %s in %d bars",
		b.volRatio(), p.VolPeriod, b.spread(), 100*b.closePos(), words(dist, "low", "high"), movePct,
		words(dist, "fall", "rise"), bars)
}

func arText(dist bool, atr, pct float64, bars int, retrace float64) string {
	return fmt.Sprintf("%s %.1f ATR (%.1f%%) from the climax %s in %d bars, retracing %.0f%% of the move into it",
		words(dist, "rallied", "fell"), atr, pct, words(dist, "low", "high"), bars, 100*retrace)
}

func psText(dist bool, volRatio float64, period, before int) string {
	return fmt.Sprintf("volume %.1fx its %d-bar mean on a %s that held two bars either side, %d bars before the climax",
		volRatio, period, words(dist, "low", "high"), before)
}

func stText(dist bool, volVsClimax, pos float64) string {
	return fmt.Sprintf("back to the climax area (%.0f%% of the range height %s) on %.0f%% of the climax volume",
		100*pos, words(dist, "above support", "below resistance"), 100*volVsClimax)
}

func springText(dist bool, v *verdict, volRatio float64, p *Params) string {
	variant := "on average volume"
	switch {
	case volRatio >= p.SOSVolRatio:
		variant = "on heavy volume: a shakeout, to be tested"
	case volRatio < 1:
		variant = "on light volume: supply is exhausted"
	}
	if dist {
		variant = "on average volume"
		switch {
		case volRatio >= p.SOSVolRatio:
			variant = "on heavy volume: demand met by supply"
		case volRatio < 1:
			variant = "on light volume: no demand above resistance"
		}
	}
	return fmt.Sprintf("broke %s by %.1f ATR (%.0f%% of the range height) and closed back inside within %d bars, volume %.1fx its mean %s",
		words(dist, "support", "resistance"), v.m[0].Value, 100*v.m[1].Value, int(v.m[2].Value), volRatio, variant)
}

func testText(volVsSpring float64, bars int) string {
	return fmt.Sprintf("retested the spring area %d bars after it on %.0f%% of its volume, holding above its low", bars, 100*volVsSpring)
}

func sosText(dist bool, v *verdict, window int) string {
	return fmt.Sprintf("closed %.1f ATR %s with volume up to %.1fx its mean and a spread up to %.1f ATR in the last %d bars",
		v.m[0].Value, words(dist, "above resistance", "below support"), v.m[1].Value, v.m[2].Value, window)
}

func lpsText(dist bool, pos, volRatio float64, bars int) string {
	return fmt.Sprintf("%s %d bars after the %s, holding %.0f%% of the range height %s, on volume %.1fx its mean",
		words(dist, "pulled back", "rallied"), bars, words(dist, "SOS", "SOW"), 100*pos,
		words(dist, "above support", "below resistance"), volRatio)
}

func buText(distATR, volRatio float64) string {
	return fmt.Sprintf("backed up to within %.1f ATR of the broken resistance on volume %.1fx its mean", distATR, volRatio)
}
