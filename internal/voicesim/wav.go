package voicesim

import (
	"encoding/binary"
	"math"
	"sync"
)

// The simulated recording: 8 kHz mono 16-bit PCM, the format of a phone
// line. A few seconds of two alternating tones with pauses sound enough
// like two voices taking turns to play in a browser.
const (
	wavRate     = 8000
	wavSeconds  = 4
	wavBits     = 16
	wavChannels = 1
)

var recording = sync.OnceValue(func() []byte { return makeWAV(wavSeconds * wavRate) })

// makeWAV builds a RIFF/WAVE file of n samples.
func makeWAV(n int) []byte {
	const blockAlign = wavChannels * wavBits / 8
	dataLen := n * blockAlign
	b := make([]byte, 44+dataLen)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	le.PutUint32(b[16:], 16) // PCM fmt chunk size
	le.PutUint16(b[20:], 1)  // PCM
	le.PutUint16(b[22:], wavChannels)
	le.PutUint32(b[24:], wavRate)
	le.PutUint32(b[28:], wavRate*blockAlign) // byte rate
	le.PutUint16(b[32:], blockAlign)
	le.PutUint16(b[34:], wavBits)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(dataLen))
	for i := range n {
		t := float64(i) / wavRate
		seg := int(t / 0.5) // half-second segments: tone A, pause, tone B, pause
		var v float64
		switch seg % 4 {
		case 0:
			v = math.Sin(2 * math.Pi * 440 * t)
		case 2:
			v = math.Sin(2 * math.Pi * 330 * t)
		}
		// Fade each segment in and out to avoid clicks.
		phase := math.Mod(t, 0.5) / 0.5
		v *= math.Sin(math.Pi * phase)
		le.PutUint16(b[44+i*blockAlign:], uint16(int16(v*8000)))
	}
	return b
}
