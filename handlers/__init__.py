"""Functions the BPMN processes and DMN tables may call, and the domain rules behind them."""
