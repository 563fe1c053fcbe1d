import sys
print("1..0 # SKIP not written yet")
sys.exit(0)
