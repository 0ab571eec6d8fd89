package shell

// The output encoder: a perl program that each of a command's output
// streams passes through in the sandbox (see Spec.Script), so that the
// daemon's line labelling cannot damage the bytes. It reads whatever is
// available (at most 1 KiB: a record is then at most 3 KiB, below the 4 KiB
// that a pipe writes atomically, so the stdout and stderr encoders never
// mix their records) and writes at once one record:
//
//	<tag><payload>\n
//
// where tag is its argument ("o" or "e") and the payload is the bytes read,
// with NUL, 01, 02 (the daemon's label bytes), newline, "%" and every byte
// that is not part of a valid UTF-8 sequence written as %XX. A record is
// thus one line of valid UTF-8 without label bytes: bash's read keeps it
// whole, the daemon's JSON answers carry it exactly, and its sync answer
// does not split it. ASCII text costs one pass of tr and one substitution;
// a chunk with bytes above 127 is checked as UTF-8 as a whole, and only an
// invalid chunk (binary data, or a character cut by the 1 KiB read) is
// escaped byte by byte.
//
// It needs only perl's core (perl-base on Debian and Ubuntu images); the
// program contains no single quote.
const encoder = `binmode STDIN;binmode STDOUT;my $t=shift;my %e=map{(chr($_),sprintf("%%%02X",$_))}0..255;my($b,$c);` +
	`while(sysread(STDIN,$b,1024)){` +
	`if($b=~tr/\x80-\xFF//and!(utf8::decode($c=$b)and$c!~/[\x{D800}-\x{DFFF}]/)){` +
	`$b=~s{([\x00-\x7F]+)|((?:[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})+)|(.)}` +
	`{defined $1?($1=~s/([\x00-\x02\n%])/$e{$1}/gr):defined $2?$2:$e{$3}}gse}` +
	`else{$b=~s/([\x00-\x02\n%])/$e{$1}/g}` +
	`syswrite(STDOUT,"$t$b\n")}`
