# Reproducible pseudo-random weights, identical to tests/Qllm.Tests/Support/DeterministicWeights.cs.
import numpy as np
def fnv(s):
    h=0xcbf29ce484222325
    for b in s.encode(): h^=b; h=(h*0x100000001b3)&0xFFFFFFFFFFFFFFFF
    return h
def gen(name,count,scale,offset=0.0):
    M=np.uint64(0xFFFFFFFFFFFFFFFF)
    with np.errstate(over='ignore'):
        x=np.uint64(fnv(name))+np.arange(count,dtype=np.uint64)
        x=x+np.uint64(0x9e3779b97f4a7c15)
        x=(x^(x>>np.uint64(30)))*np.uint64(0xbf58476d1ce4e5b9)
        x=(x^(x>>np.uint64(27)))*np.uint64(0x94d049bb133111eb)
        x=x^(x>>np.uint64(31))
    u=(x>>np.uint64(40)).astype(np.float32)/np.float32(16777216)
    return np.float32(scale)*(np.float32(2)*u-np.float32(1))+np.float32(offset)
