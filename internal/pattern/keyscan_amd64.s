#include "textflag.h"

// func keyScanBlocks(s []byte, a, b, c byte) int
//
// keyScan over whole blocks of 32 bytes, two at a time while neither holds
// a key byte or a backslash, (len(s) is a multiple of 32), with
// AVX2 (the caller checks hasAVX2). Per block: three byte compares for the
// key bytes, one for quotes, one for backslashes, each made a 32-bit mask;
// the quote mask moved up one byte (with a quote at the end of the previous
// block carried in) says which bytes follow a quote.
TEXT ·keyScanBlocks(SB), NOSPLIT, $0-40
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), BX
	MOVQ SI, DI
	LEAQ (SI)(BX*1), R8

	MOVBLZX a+24(FP), AX
	VMOVQ AX, X1
	VPBROADCASTB X1, Y1
	MOVBLZX b+25(FP), AX
	VMOVQ AX, X2
	VPBROADCASTB X2, Y2
	MOVBLZX c+26(FP), AX
	VMOVQ AX, X3
	VPBROADCASTB X3, Y3
	MOVQ $0x22, AX
	VMOVQ AX, X4
	VPBROADCASTB X4, Y4
	MOVQ $0x5c, AX
	VMOVQ AX, X5
	VPBROADCASTB X5, Y5

	XORQ R9, R9 // 1 if the byte before the block is a quote

loop64:
	LEAQ 64(SI), R11
	CMPQ R11, R8
	JA loop
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y8
	VPCMPEQB Y1, Y0, Y6
	VPCMPEQB Y1, Y8, Y9
	VPCMPEQB Y2, Y0, Y7
	VPCMPEQB Y2, Y8, Y10
	VPOR Y7, Y6, Y6
	VPOR Y10, Y9, Y9
	VPCMPEQB Y3, Y0, Y7
	VPCMPEQB Y3, Y8, Y10
	VPOR Y7, Y6, Y6
	VPOR Y10, Y9, Y9
	VPCMPEQB Y5, Y0, Y7
	VPCMPEQB Y5, Y8, Y10
	VPOR Y7, Y6, Y7
	VPOR Y10, Y9, Y10
	VPOR Y10, Y7, Y7
	VPCMPEQB Y4, Y8, Y10
	VPMOVMSKB Y10, BX
	VPTEST Y7, Y7
	JNZ loop // a key byte or a backslash: look at the first half on its own
	SHRL $31, BX
	MOVL BX, R9
	MOVQ R11, SI
	JMP loop64

loop:
	CMPQ SI, R8
	JAE none
	VMOVDQU (SI), Y0
	VPCMPEQB Y1, Y0, Y6
	VPCMPEQB Y2, Y0, Y7
	VPOR Y7, Y6, Y6
	VPCMPEQB Y3, Y0, Y7
	VPOR Y7, Y6, Y6
	VPMOVMSKB Y6, AX // key bytes
	VPCMPEQB Y4, Y0, Y7
	VPMOVMSKB Y7, BX // quotes
	VPCMPEQB Y5, Y0, Y0
	VPMOVMSKB Y0, DX // backslashes
	MOVQ BX, R10
	SHLQ $1, R10
	ORQ R9, R10 // the bytes that follow a quote
	MOVL BX, R9
	SHRL $31, R9
	ANDQ R10, AX
	ORQ AX, DX
	JNZ found
	ADDQ $32, SI
	JMP loop64

found:
	VZEROUPPER
	BSFQ DX, DX
	SUBQ DI, SI
	ADDQ DX, SI
	MOVQ SI, ret+32(FP)
	RET

none:
	VZEROUPPER
	MOVQ $-1, ret+32(FP)
	RET

// func cpuAVX2() bool
TEXT ·cpuAVX2(SB), NOSPLIT, $0-1
	XORL AX, AX
	XORL CX, CX
	CPUID
	CMPL AX, $7
	JLT no
	MOVL $1, AX
	XORL CX, CX
	CPUID
	ANDL $0x18000000, CX // OSXSAVE and AVX
	CMPL CX, $0x18000000
	JNE no
	XORL CX, CX
	XGETBV
	ANDL $6, AX // the OS saves the XMM and YMM state
	CMPL AX, $6
	JNE no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x20, BX // AVX2
	JZ no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET
