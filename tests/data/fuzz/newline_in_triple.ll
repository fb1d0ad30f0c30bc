target triple = "x86_64
define i32 @sum(i32 %n) {
  %x = add i32 %n, 1
  ret i32 %x
}
-unknown-linux-gnu"
define i32 @sum(i32 %n) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret i32 %next
}
