import CLLVM
import PopcornSupport
