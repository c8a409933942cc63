print("emflow")
