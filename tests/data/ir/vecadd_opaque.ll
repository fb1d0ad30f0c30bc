; An OpenCL-style kernel as LLVM 16 writes it (opaque pointers).
target triple = "spir64"

define spir_kernel void @vecadd(ptr addrspace(1) %a, ptr addrspace(1) %b, ptr addrspace(1) %c, i32 %n) {
entry:
  %id = tail call i64 @_Z13get_global_idj(i32 0)
  %i = trunc i64 %id to i32
  %in = icmp slt i32 %i, %n
  br i1 %in, label %body, label %done

body:
  %pa = getelementptr inbounds float, ptr addrspace(1) %a, i64 %id
  %va = load float, ptr addrspace(1) %pa, align 4
  %pb = getelementptr inbounds float, ptr addrspace(1) %b, i64 %id
  %vb = load float, ptr addrspace(1) %pb, align 4
  %s = fadd float %va, %vb
  %pc = getelementptr inbounds float, ptr addrspace(1) %c, i64 %id
  store float %s, ptr addrspace(1) %pc, align 4
  br label %done

done:
  ret void
}

declare i64 @_Z13get_global_idj(i32)
