declare i32 @ext(i32)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)

@table = internal global [4 x i32] [i32 1, i32 2, i32 3, i32 4]

define internal i32 @callee(i32 %x) {
  %y = add i32 %x, %x
  ret i32 %y
}

define i32 @caller(i32 %a, ptr %dst) {
  %r = call i32 @callee(i32 %a)
  %s = call i32 @ext(i32 %r)
  call void @llvm.memcpy.p0.p0.i64(ptr %dst, ptr @table, i64 16, i1 false)
  %big = mul i32 %s, 123456
  ret i32 %big
}
