//! eBPF instructions as plain data: the 8-byte `struct bpf_insn` of <linux/bpf.h> and one
//! constructor per instruction form the selector programs use. No assembler, no ELF: a program
//! is a `Vec<Insn>` built by Rust code and handed to BPF_PROG_LOAD as is.
//!
//! Encoding (Documentation/bpf/standardization/instruction-set.rst): `code` = class | size or
//! operation | mode or source; `regs` = dst in the low nibble, src in the high nibble; `off` is
//! a signed memory offset or jump distance (in instructions, from the next one); `imm` a signed
//! 32-bit immediate. A 64-bit immediate load takes two slots.

/// One eBPF instruction, laid out as the kernel reads it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// A register. R0 = return value and helper result, R1-R5 = helper arguments (clobbered by a
/// call), R6-R9 = callee-saved, R10 = read-only frame pointer (512 bytes of stack below it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub u8);
pub const R0: Reg = Reg(0);
pub const R1: Reg = Reg(1);
pub const R2: Reg = Reg(2);
pub const R3: Reg = Reg(3);
pub const R4: Reg = Reg(4);
pub const R6: Reg = Reg(6);
pub const R7: Reg = Reg(7);
pub const R8: Reg = Reg(8);
pub const R9: Reg = Reg(9);
pub const R10: Reg = Reg(10);

// Instruction classes.
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const ALU64: u8 = 0x07;
// Sizes and modes of loads and stores.
const W: u8 = 0x00;
const DW: u8 = 0x18;
const IMM: u8 = 0x00;
const MEM: u8 = 0x60;
/// BPF_ATOMIC; named BPF_XADD before Linux 5.12 (same encoding, with imm = BPF_ADD).
const ATOMIC: u8 = 0xc0;
// Operand source.
const K: u8 = 0x00; // the immediate
const X: u8 = 0x08; // the src register

/// ALU operations (the high nibble of `code`).
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
pub enum Alu {
    Add = 0x00,
    Sub = 0x10,
    Or = 0x40,
    Lsh = 0x60,
    Mod = 0x90,
    Mov = 0xb0,
}

/// Conditional jumps (unsigned comparisons).
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
pub enum Jmp {
    Eq = 0x10,
    Ge = 0x30,
    Ne = 0x50,
}
const CALL: u8 = 0x80;
const EXIT: u8 = 0x90;

/// `src_reg` of a 64-bit immediate load whose `imm` is a map file descriptor: the verifier
/// replaces it by the map's address (BPF_PSEUDO_MAP_FD).
const PSEUDO_MAP_FD: u8 = 1;
/// Atomic operation codes (in `imm` of a BPF_ATOMIC store).
const ATOMIC_ADD: i32 = 0x00;
const ATOMIC_FETCH: i32 = 0x01;

fn insn(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src.0 << 4) | (dst.0 & 0x0f),
        off,
        imm,
    }
}

/// `dst op= imm` on 64 bits (the immediate is sign-extended).
pub fn alu64_imm(op: Alu, dst: Reg, imm: i32) -> Insn {
    insn(ALU64 | op as u8 | K, dst, R0, 0, imm)
}

/// `dst op= src` on 64 bits.
pub fn alu64_reg(op: Alu, dst: Reg, src: Reg) -> Insn {
    insn(ALU64 | op as u8 | X, dst, src, 0, 0)
}

/// `dst = (u32) src`: a 32-bit move zero-extends into the upper half.
pub fn mov32_reg(dst: Reg, src: Reg) -> Insn {
    insn(ALU | Alu::Mov as u8 | X, dst, src, 0, 0)
}

/// `dst = *(u32 *)(src + off)`, zero-extended.
pub fn ldx_w(dst: Reg, src: Reg, off: i16) -> Insn {
    insn(LDX | MEM | W, dst, src, off, 0)
}

/// `dst = *(u64 *)(src + off)`.
pub fn ldx_dw(dst: Reg, src: Reg, off: i16) -> Insn {
    insn(LDX | MEM | DW, dst, src, off, 0)
}

/// `*(u32 *)(dst + off) = imm`.
pub fn st_w(dst: Reg, off: i16, imm: i32) -> Insn {
    insn(ST | MEM | W, dst, R0, off, imm)
}

/// `*(u32 *)(dst + off) = (u32) src`.
pub fn stx_w(dst: Reg, off: i16, src: Reg) -> Insn {
    insn(STX | MEM | W, dst, src, off, 0)
}

/// `lock *(u32 *)(dst + off) += (u32) src` (BPF_XADD, Linux 3.18; no result).
pub fn atomic_add_w(dst: Reg, off: i16, src: Reg) -> Insn {
    insn(STX | ATOMIC | W, dst, src, off, ATOMIC_ADD)
}

/// `lock *(u64 *)(dst + off) += src` (BPF_XADD, Linux 3.18; no result).
pub fn atomic_add_dw(dst: Reg, off: i16, src: Reg) -> Insn {
    insn(STX | ATOMIC | DW, dst, src, off, ATOMIC_ADD)
}

/// `src = atomic_fetch_add((u64 *)(dst + off), src)`: BPF_ATOMIC | BPF_FETCH (Linux 5.12);
/// `src` gets the value before the addition.
pub fn atomic_fetch_add_dw(dst: Reg, off: i16, src: Reg) -> Insn {
    insn(STX | ATOMIC | DW, dst, src, off, ATOMIC_ADD | ATOMIC_FETCH)
}

/// `dst = map` (the map's address, from its fd): BPF_LD | BPF_DW | BPF_IMM, two slots.
pub fn ld_map_fd(dst: Reg, map_fd: i32) -> [Insn; 2] {
    [
        insn(LD | DW | IMM, dst, Reg(PSEUDO_MAP_FD), 0, map_fd),
        insn(0, R0, R0, 0, 0),
    ]
}

/// `if dst op imm goto +off`.
pub fn jmp_imm(op: Jmp, dst: Reg, imm: i32, off: i16) -> Insn {
    insn(JMP | op as u8 | K, dst, R0, off, imm)
}

/// `if dst op src goto +off`.
pub fn jmp_reg(op: Jmp, dst: Reg, src: Reg, off: i16) -> Insn {
    insn(JMP | op as u8 | X, dst, src, off, 0)
}

/// `r0 = helper(r1, ..., r5)`.
pub fn call(helper: i32) -> Insn {
    insn(JMP | CALL, R0, R0, 0, helper)
}

/// `return r0`.
pub fn exit() -> Insn {
    insn(JMP | EXIT, R0, R0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_kernel_headers() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        // BPF_MOV64_REG(BPF_REG_6, BPF_REG_1) = 0xbf, regs 0x16
        let i = alu64_reg(Alu::Mov, R6, R1);
        assert_eq!((i.code, i.regs), (0xbf, 0x16));
        // BPF_LD_MAP_FD(BPF_REG_1, fd) = 0x18, src 1
        assert_eq!(
            ld_map_fd(R1, 7)[0],
            Insn {
                code: 0x18,
                regs: 0x11,
                off: 0,
                imm: 7
            }
        );
        // BPF_ATOMIC_OP(BPF_DW, BPF_ADD | BPF_FETCH, r0, r1, 0) = 0xdb, imm 1
        let i = atomic_fetch_add_dw(R0, 0, R1);
        assert_eq!((i.code, i.regs, i.imm), (0xdb, 0x10, 1));
        // BPF_EXIT_INSN() = 0x95; BPF_EMIT_CALL(82) = 0x85 imm 82
        assert_eq!((exit().code, call(82).code, call(82).imm), (0x95, 0x85, 82));
    }
}
